import type { Registry, ScheduleDefinition, ScheduleRecord } from '../stores/store.js';
import { CronTicks } from '../schedules/ticks.js';
import type { Logger } from './logger.js';

// Recurring schedules, in every runtime: declare this runtime's static schedules, then about
// once a second read the schedules that apply (with the store's clock) and enqueue each due
// tick through Registry.enqueueTick, which records the tick under (schedule, tick) in the same
// write as its job: however many runtimes do this at once, each tick enqueues one job.
//
// Misfires. A tick is on time when it is less than GRACE_MS late and came after this runtime
// began watching (its first read of the schedules); any other due tick was missed: no runtime
// was running (or none could reach the store) when it fell. 'skip' runs none of them, 'once'
// runs one, the latest. Never a burst: missed ticks are never enumerated, let alone enqueued.
//
// A changed definition (cron, zone, misfire or job: the store moves updatedAt only then) starts
// from its change: ticks of the new cron before it were never due, so they are not missed
// either, and 'once' makes no catch-up run for them.

/** How often the schedules are read when no tick is nearer. */
export const SCHEDULE_POLL_MS = 1_000;
/** How late an on-time tick may be: three polls, so a slow read or a busy event loop misses none. */
export const GRACE_MS = 3 * SCHEDULE_POLL_MS;
/** Shortest sleep: ticks are whole seconds, so this never spins. */
const MIN_SLEEP_MS = 20;
/** At most this many on-time ticks of one schedule per read (a 6-field cron within the grace: 3). */
const MAX_TICKS_PER_READ = 10;

export interface SchedulerOptions {
  registry: Registry;
  log: Logger;
  runtimeId: string;
  /** This runtime's job classes' static schedules (schedules/discover.ts). */
  schedules: ScheduleDefinition[];
  /** Each tick this runtime enqueued (tests, logs). */
  onEnqueued?: (key: string, tickAtMs: number, id: number) => void;
  /** Every tick tried (enqueued here, or already claimed) and every misfire (once per gap): metrics. */
  onTick?: (key: string, outcome: TickCount) => void;
}

/**
 * What became of a tick this runtime tried: 'enqueued' here; 'already_claimed' by another runtime
 * (or its job was a unique-key duplicate of a standing one); 'misfired': a gap of missed ticks
 * was found, counted once per gap whatever the number of ticks in it (a 'once' catch-up run is
 * an 'enqueued' tick besides).
 */
export type TickCount = 'enqueued' | 'already_claimed' | 'misfired';

export class Scheduler {
  private stopped = false;
  private loop: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private wakeSleep: (() => void) | null = null;
  /** Store time of this runtime's first read: ticks before it fell while it was not watching. */
  private watchingSinceMs: number | null = null;
  private declared = false;
  private storeDown = false;
  private readonly parsed = new Map<string, CronTicks>();
  /** Misfires already logged, by key and last tick: each is said once. */
  private readonly toldMissed = new Set<string>();

  constructor(private readonly o: SchedulerOptions) {}

  /** Declares the static schedules (the first time here: a store error fails the start), then ticks in the background. */
  async start(): Promise<void> {
    await this.declare();
    this.loop = this.run();
  }

  /** After a re-registration the store had dropped this runtime's declarations: make them again. */
  redeclare(): void {
    this.declared = false;
    this.wake();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake();
    await this.loop;
  }

  private async declare(): Promise<void> {
    await this.o.registry.declareSchedules({ runtimeId: this.o.runtimeId, schedules: this.o.schedules });
    this.declared = true;
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      let sleepMs = SCHEDULE_POLL_MS;
      try {
        if (!this.declared) await this.declare();
        sleepMs = await this.round();
        if (this.storeDown) this.o.log.info('Schedules: the store answers again, ticking resumed');
        this.storeDown = false;
      } catch (e) {
        if (!this.storeDown) this.o.log.warn(`Schedules: could not read or enqueue ticks (${(e as Error)?.message ?? String(e)}); trying again every second`);
        this.storeDown = true;
      }
      await this.sleep(sleepMs);
    }
  }

  /** One read and the ticks it finds due; returns how long to sleep (until the next tick, at most a poll). */
  private async round(): Promise<number> {
    const { nowMs, schedules } = await this.o.registry.activeSchedules();
    this.watchingSinceMs ??= nowMs;
    let nextMs = nowMs + SCHEDULE_POLL_MS;
    for (const s of schedules) {
      if (this.stopped) break;
      const ticks = this.ticksOf(s);
      if (!ticks) continue;
      for (const tickAtMs of this.dueTicks(s, ticks, nowMs)) {
        const { id, enqueued } = await this.o.registry.enqueueTick({ key: s.key, tickAtMs, job: s.job });
        if (id === null) continue; // removed since the read
        if (enqueued) this.o.onEnqueued?.(s.key, tickAtMs, id);
        this.o.onTick?.(s.key, enqueued ? 'enqueued' : 'already_claimed');
      }
      const next = ticks.next(nowMs);
      if (next !== null) nextMs = Math.min(nextMs, next);
    }
    // Just after the tick, by the store's clock (the sleep is measured here: only the difference counts).
    return Math.max(MIN_SLEEP_MS, nextMs - nowMs + MIN_SLEEP_MS);
  }

  /** The ticks to enqueue now: a catch-up for missed ones ('once'), then those on time, in order. */
  private dueTicks(s: ScheduleRecord, ticks: CronTicks, nowMs: number): number[] {
    // From its last tick, or from when it was saved, first declared or last changed if later.
    const base = Math.max(s.lastTickAtMs ?? 0, s.updatedAt.getTime());
    // On time: after both (now − grace) and the start of this runtime's watch.
    const lateBefore = Math.max(nowMs - GRACE_MS, (this.watchingSinceMs ?? nowMs) - 1);
    const due: number[] = [];
    const missed = ticks.latestAtOrBefore(lateBefore);
    if (missed !== null && missed > base) {
      if (s.misfire === 'once') due.push(missed);
      const told = `${s.key}@${base}`;
      if (!this.toldMissed.has(told)) {
        this.toldMissed.add(told);
        this.o.onTick?.(s.key, 'misfired');
        this.o.log.info(
          `Schedule '${s.key}': ticks since ${new Date(base).toISOString()} were missed (no runtime ran them); ` +
            (s.misfire === 'once' ? `one catch-up run for ${new Date(missed).toISOString()} (misfire 'once')` : `none of them runs (misfire 'skip')`),
          { event: 'schedule_missed', key: s.key, misfire: s.misfire },
        );
      }
    }
    due.push(...ticks.between(Math.max(base, lateBefore), nowMs, MAX_TICKS_PER_READ));
    return due;
  }

  /** The parsed cron of a schedule, kept while its text and zone stay; null (said once) when it no longer parses. */
  private ticksOf(s: ScheduleRecord): CronTicks | null {
    const id = `${s.key}\n${s.cron}\n${s.tz}`;
    let ticks = this.parsed.get(id);
    if (!ticks) {
      try {
        ticks = new CronTicks(s.cron, s.tz);
      } catch (e) {
        // Stored by another version, or a zone this Node does not know: the others still tick.
        if (!this.toldMissed.has(id)) this.o.log.warn(`Schedule '${s.key}': cron '${s.cron}' in ${s.tz} does not parse here: ${(e as Error).message}`);
        this.toldMissed.add(id);
        return null;
      }
      this.parsed.set(id, ticks);
    }
    return ticks;
  }

  private sleep(ms: number): Promise<void> {
    if (this.stopped) return Promise.resolve();
    return new Promise((resolve) => {
      this.wakeSleep = resolve;
      this.timer = setTimeout(resolve, ms);
      this.timer.unref?.();
    });
  }

  private wake(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.wakeSleep?.();
    this.wakeSleep = null;
  }
}
