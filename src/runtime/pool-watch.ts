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
}

export interface WatchedSubmission {
  entries: WatchedEntry[];
  /** Under a --timeout of its own (the pool's timer watches its load and run). */
  timed: boolean;
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
      if (sub.entries.length > 1) {
        batches = true;
        this.lookAtBatch(sub);
      }
      if (!sub.timed) this.checkLoadLimit(sub);
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
   * A batch whose running job has run past TAKE_BACK_AFTER_MS: the successes before it are
   * handed on now, the jobs behind it taken back. Otherwise the batch is left alone: its reply
   * is due within a few ms and brings every result at once, which costs less.
   */
  private lookAtBatch(sub: WatchedSubmission): void {
    const done: Array<{ entry: WatchedEntry; durationMs: number }> = [];
    const back: WatchedEntry[] = [];
    let blocked = false;
    for (const entry of sub.entries) {
      if (entry.settled || entry.slot === undefined) continue;
      const phase = this.slots.phase(entry.slot);
      if (phase === Phase.SUCCEEDED) done.push({ entry, durationMs: this.slots.read(entry.slot).durationMs });
      else if (phase === Phase.LOADING || phase === Phase.RUNNING) {
        blocked = this.slots.read(entry.slot).forMs >= TAKE_BACK_AFTER_MS;
        if (!blocked) return;
      } else if (phase === Phase.QUEUED) {
        // Jobs run in order: nothing behind a job not started yet has started either.
        if (!blocked) return;
        if (this.slots.takeBack(entry.slot)) back.push(entry);
      }
    }
    if (!blocked) return;
    for (const { entry, durationMs } of done) this.hooks.succeeded(entry, durationMs);
    if (back.length > 0) this.hooks.takenBack(back);
  }

  private checkLoadLimit(sub: WatchedSubmission): void {
    for (const entry of sub.entries) {
      if (entry.settled || entry.slot === undefined) continue;
      const phase = this.slots.phase(entry.slot);
      if (phase === Phase.QUEUED) return; // nor any behind it
      if (phase !== Phase.LOADING) continue;
      const { forMs, threadId } = this.slots.read(entry.slot);
      // A thread still importing the job files may be frozen by one of them: that is told apart above.
      if (forMs >= this.loadLimitMs && !this.preload.isPreloading(threadId))
        this.hooks.terminate(threadId, { kind: 'load-timeout', limitMs: this.loadLimitMs });
    }
  }
}
