import { Phase, type TaskSlots } from '../execution/task-slots.js';
import { FROZEN_PRELOAD_MS, type PreloadBoard } from '../execution/preload-board.js';
import type { JobTask } from '../execution/thread-protocol.js';
import type { ThreadEnd } from './thread-death.js';

// The pool's look at its threads through shared memory, on a timer: fast while batches run,
// slow otherwise (and never a busy loop). It
// - when a job of a batch runs far past its estimate, hands on the successes before it and
//   takes back the jobs waiting behind it, so that another thread runs them now (no job, and no
//   result, waits behind a long one);
// - terminates a thread frozen while loading a job's code (a job without a --timeout of its own
//   has the load limit still) or while preloading the job files at start.

/** A job of a batch running this long has the jobs behind it taken back. */
export const TAKE_BACK_AFTER_MS = 5;
const FAST_MS = 2;
const SLOW_MS = 1_000;

export interface WatchedEntry {
  task: JobTask;
  /** The slot of its current submission. */
  slot: number | undefined;
  settled: boolean;
  /** Its --timeout: the pool's own timer then watches its load and run. */
  timeoutMs: number | null;
}

export interface WatchedSubmission {
  entries: WatchedEntry[];
}

export interface PoolWatchHooks {
  inFlight(): Iterable<WatchedSubmission>;
  succeeded(entry: WatchedEntry, durationMs: number): void;
  takenBack(entries: WatchedEntry[]): void;
  terminate(threadId: number, end: ThreadEnd): void;
}

export class PoolWatch {
  private timer: NodeJS.Timeout | null = null;
  private dueAt = Number.POSITIVE_INFINITY;
  private closed = false;

  constructor(
    private readonly slots: TaskSlots,
    private readonly preload: PreloadBoard,
    private readonly loadLimitMs: number,
    private readonly hooks: PoolWatchHooks,
  ) {
    this.schedule(SLOW_MS);
  }

  /** A batch went out: look soon. */
  batchSent(): void {
    this.schedule(FAST_MS);
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
  }

  private schedule(ms: number): void {
    if (this.closed || performance.now() + ms >= this.dueAt) return;
    if (this.timer) clearTimeout(this.timer);
    this.dueAt = performance.now() + ms;
    this.timer = setTimeout(() => this.tick(), ms).unref();
  }

  private tick(): void {
    this.timer = null;
    this.dueAt = Number.POSITIVE_INFINITY;
    let batches = false;
    for (const sub of this.hooks.inFlight()) {
      batches ||= sub.entries.length > 1;
      this.look(sub);
    }
    this.checkPreloads();
    this.schedule(batches ? FAST_MS : SLOW_MS);
  }

  /**
   * A thread whose preload stopped stamping is frozen by the file it imports, unless one of its
   * jobs is running (its synchronous code stops the stamps too): then only past the load limit.
   */
  private checkPreloads(): void {
    const silent = this.preload.silent(FROZEN_PRELOAD_MS);
    if (silent.length === 0) return;
    const running = this.threadsRunningJobs();
    for (const { entry, threadId, silentMs } of silent) {
      if (running.has(threadId) && silentMs < this.loadLimitMs) continue;
      if (this.preload.condemn(entry)) {
        this.hooks.terminate(threadId, { kind: 'terminated', reason: 'a job file froze it while the thread imported the job files at start' });
      }
    }
  }

  private threadsRunningJobs(): Set<number> {
    const threads = new Set<number>();
    for (const sub of this.hooks.inFlight()) {
      for (const entry of sub.entries) {
        if (entry.settled || entry.slot === undefined) continue;
        const { phase, threadId } = this.slots.read(entry.slot);
        if (phase === Phase.RUNNING) threads.add(threadId);
      }
    }
    return threads;
  }

  /**
   * One pass over a submission. Its jobs run in order, so at most one is loading or running and
   * nothing behind a job not started yet has started. That job, past the load limit while its
   * code loads (no --timeout of its own), has its thread terminated; past TAKE_BACK_AFTER_MS in
   * a batch, the successes before it are handed on now and the jobs behind it taken back.
   * Otherwise the batch is left alone: its reply is due within a few ms and brings every result
   * at once, which costs less.
   */
  private look(sub: WatchedSubmission): void {
    const done: Array<{ entry: WatchedEntry; durationMs: number }> = [];
    let current = -1;
    for (const [i, entry] of sub.entries.entries()) {
      if (entry.settled || entry.slot === undefined) continue;
      const phase = this.slots.phase(entry.slot);
      if (phase === Phase.QUEUED) return;
      if (phase === Phase.SUCCEEDED) done.push({ entry, durationMs: this.slots.read(entry.slot).durationMs });
      else if (phase === Phase.LOADING || phase === Phase.RUNNING) {
        current = i;
        break;
      }
    }
    if (current < 0) return;
    const running = sub.entries[current]!;
    const { phase, forMs, threadId } = this.slots.read(running.slot!);
    // A thread still importing the job files may be frozen by one of them: checkPreloads tells that apart.
    if (phase === Phase.LOADING && running.timeoutMs === null && forMs >= this.loadLimitMs && !this.preload.isPreloading(threadId)) {
      this.hooks.terminate(threadId, { kind: 'load-timeout', limitMs: this.loadLimitMs });
    }
    if (sub.entries.length === 1 || forMs < TAKE_BACK_AFTER_MS) return;
    const back = sub.entries.slice(current + 1).filter((e) => !e.settled && e.slot !== undefined && this.slots.takeBack(e.slot));
    for (const { entry, durationMs } of done) this.hooks.succeeded(entry, durationMs);
    if (back.length > 0) this.hooks.takenBack(back);
  }
}
