import pidusage from 'pidusage';
import type { Registry, RuntimeInfo, RuntimeStats } from '../stores/store.js';
import { isDeadOnThisHost } from './host-identity.js';
import type { Logger } from './logger.js';
import { timerMs } from './long-timers.js';

// Registers this runtime, heartbeats every few seconds with its CPU and memory, and gives back
// the claimed jobs of dead peers. Dead means silent for longer than the dead-after window (by
// the store's clock), or, on this machine, a process that no longer exists. Recovery is by
// owner, never by a job's age, so a long job on a live runtime is never taken away.
//
// Self-fencing: a runtime whose beats have not reached the store for dead-after − heartbeat
// (this host's monotonic clock) may already be presumed dead by its peers, and its jobs given
// back. It says so and stops claiming until a beat gets through again; its results of jobs
// given back meanwhile are refused by their fencing tokens and dropped, never shown as done.

export interface HeartbeatOptions {
  registry: Registry;
  log: Logger;
  runtime: RuntimeInfo;
  intervalMs: number;
  deadAfterMs: number;
  maxInterruptions: number;
  /** Recovery writes an outcome event per job it gives back or fails (issue 17). */
  keepOutcomes?: boolean;
  /** Figures from the runtime for each beat. */
  stats: () => Omit<RuntimeStats, 'cpuPercent' | 'rssBytes'>;
  /** Called after each beat with the master's RSS, for the memory limit. */
  onBeat?: (rssBytes: number) => void;
  /** Called when this runtime may be presumed dead (true: stop claiming) and when it is not any more. */
  onFenced?: (fenced: boolean) => void;
  /** Called when a beat found this runtime removed and registered it again (its schedule declarations went with it). */
  onReregistered?: () => void;
}

/** A beat that takes longer than this fails, so one stuck on a silent network never holds up the next. */
export function beatTimeoutMs(intervalMs: number): number {
  return Math.max(1_000, Math.round(intervalMs * 0.9));
}

export class Heartbeat {
  private timer: NodeJS.Timeout | null = null;
  private beating: Promise<void> | null = null;
  private recovering: Promise<void> | null = null;
  /** When the store last failed us; recovery waits a full window after it (see recover()). */
  private lastStoreFailure = 0;
  /** When a beat last reached the store (performance.now(): immune to clock steps). */
  private lastBeatOk = performance.now();
  private fenced = false;

  constructor(private readonly o: HeartbeatOptions) {}

  /** Past this silence, peers may take this runtime for dead at their next recovery. */
  get fenceAfterMs(): number {
    return this.o.deadAfterMs - this.o.intervalMs;
  }

  /** Registers, recovers dead peers once (this may be the next runtime to start), then beats. */
  async start(): Promise<void> {
    await this.o.registry.registerRuntime({ runtime: this.o.runtime });
    this.lastBeatOk = performance.now();
    await this.recover();
    this.timer = setInterval(() => {
      this.checkFence();
      this.beating ??= this.beat().finally(() => (this.beating = null));
    }, timerMs(this.o.intervalMs));
    this.timer.unref();
  }

  private checkFence(): void {
    const silentMs = performance.now() - this.lastBeatOk;
    if (this.fenced || silentMs < this.fenceAfterMs) return;
    this.fenced = true;
    this.o.log.warn(
      `No heartbeat reached the store for ${Math.round(silentMs / 1000)} s: peers may presume this runtime dead; claiming stopped until the store is reachable`,
      { silentMs: Math.round(silentMs) },
    );
    this.o.onFenced?.(true);
  }

  private async beat(): Promise<void> {
    let usage = { cpu: 0, memory: process.memoryUsage.rss() };
    try {
      usage = await pidusage(process.pid);
    } catch {
      // pidusage reads /proc; without it the beat still says we are alive
    }
    this.o.onBeat?.(usage.memory);
    let wasRegistered: boolean;
    try {
      const stats = { ...this.o.stats(), cpuPercent: usage.cpu, rssBytes: usage.memory };
      ({ wasRegistered } = await this.o.registry.heartbeat({ runtime: this.o.runtime, stats, timeoutMs: beatTimeoutMs(this.o.intervalMs) }));
    } catch {
      // The claim loop and result writer report the outage; here it delays recovery, and a long
      // enough silence fences this runtime (checkFence).
      this.lastStoreFailure = Date.now();
      return;
    }
    this.lastBeatOk = performance.now();
    if (!wasRegistered) {
      this.o.log.warn(
        'This runtime had been removed from the registry (presumed dead by a peer, or the store lost it): re-registered. ' +
          'Jobs it held were given back to run again; results of their runs here are dropped as stale',
      );
      this.o.onReregistered?.();
    }
    if (this.fenced) {
      this.fenced = false;
      this.o.log.info('A heartbeat reached the store again: claiming resumed');
      this.o.onFenced?.(false);
    }
    // In the background: a slow recovery never delays the next beat. One that fails while
    // beats succeed (a lock error past its retries) says nothing about peers' heartbeats: it is
    // tried again next beat, not suspended for a dead-after window.
    this.recovering ??= this.recover()
      .catch(() => undefined)
      .finally(() => (this.recovering = null));
  }

  private async recover(): Promise<void> {
    // After an outage every peer's heartbeat is stale by as long as the store was away. Waiting
    // one full window lets live peers beat again first, so none is mistaken for dead.
    if (Date.now() - this.lastStoreFailure < this.o.deadAfterMs) return;
    const peers = await this.o.registry.listRuntimes({});
    const alsoDead = peers.filter((p) => p.id !== this.o.runtime.id && isDeadOnThisHost(p.id, p.pid)).map((p) => p.id);
    const report = await this.o.registry.recoverDeadRuntimes({
      deadAfterMs: this.o.deadAfterMs,
      maxInterruptions: this.o.maxInterruptions,
      alsoDead,
      ...(this.o.keepOutcomes ? { keepOutcomes: true } : {}),
    });
    if (report.runtimes.length > 0 || report.released > 0 || report.failed > 0) {
      this.o.log.warn(
        `Recovered ${report.runtimes.length} dead runtime(s) ${report.runtimes.join(', ')}: ${report.released} job(s) given back to run again` +
          (report.failed ? `, ${report.failed} failed after too many interruptions` : ''),
        { ...report },
      );
    }
  }

  /** Stops beating and leaves the registry (clean exit). */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.beating;
    await this.recovering;
    try {
      await this.o.registry.deregisterRuntime({ id: this.o.runtime.id });
    } catch (e) {
      this.o.log.warn(`Could not leave the runtime registry (${(e as Error).message}); peers will remove this runtime once its heartbeat is stale`);
    }
  }
}
