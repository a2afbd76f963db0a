// Where each task handed to the thread pool stands, in shared memory: the threads write it, the
// master reads it. It is how a thread takes a job (only when it is about to run it), how the
// master takes back jobs still waiting in a batch behind a long one, times a job's run (not its
// wait in the pool, nor the first load of its code), learns of each success as it happens, and
// tells, when a thread dies, which job was running and which had finished.
//
// Four Int32 per slot: the phase; when it began in ms since `epoch` modulo 2^32; the thread
// that took it; a success's run time in µs. Elapsed time is taken modulo 2^32 too, so a runtime
// that lives for months (2^31 ms is 24.8 days) still reads the right figure for any phase
// shorter than 49 days.

export const Phase = {
  /** Handed to the pool, not started: the thread that gets it may still start it, or the master take it back. */
  QUEUED: 0,
  /** Taken by a thread, its code loading. */
  LOADING: 1,
  RUNNING: 2,
  /** Ended; its result travels in the thread's reply. */
  FINISHED: 3,
  /** Ended in a plain success (no warnings): the slot itself is the result. */
  SUCCEEDED: 4,
  /** Taken back by the master before any thread started it; it runs from another slot. */
  TAKEN_BACK: 5,
} as const;
export type Phase = (typeof Phase)[keyof typeof Phase];

/** How long loading a job's code may take in a thread (or the job's own limit, if longer). */
export const LOAD_LIMIT_MS = 30_000;

const CELLS = 4;
const MAX_US = 2 ** 31 - 1;

export class TaskSlots {
  private readonly cells: Int32Array;

  /** `buffer` holds `capacity` slots (see `TaskSlots.allocate`). */
  constructor(
    readonly buffer: SharedArrayBuffer,
    readonly epoch: number,
  ) {
    this.cells = new Int32Array(buffer);
  }

  static allocate(capacity: number): TaskSlots {
    return new TaskSlots(new SharedArrayBuffer(capacity * CELLS * Int32Array.BYTES_PER_ELEMENT), Date.now());
  }

  /** Records that the task in `slot` entered `phase` now. */
  mark(slot: number, phase: Phase): void {
    // The time first: a reader that sees the new phase then sees its time (Atomics are ordered).
    Atomics.store(this.cells, CELLS * slot + 1, this.clock());
    Atomics.store(this.cells, CELLS * slot, phase);
  }

  /**
   * A thread takes the task to run it now: false if the master took it back first. One
   * compare-and-swap decides, so a job never starts twice.
   */
  take(slot: number, threadId: number): boolean {
    Atomics.store(this.cells, CELLS * slot + 2, threadId);
    Atomics.store(this.cells, CELLS * slot + 1, this.clock());
    return Atomics.compareExchange(this.cells, CELLS * slot, Phase.QUEUED, Phase.LOADING) === Phase.QUEUED;
  }

  /** The master takes back a task no thread has started: false if a thread took it first. */
  takeBack(slot: number): boolean {
    return Atomics.compareExchange(this.cells, CELLS * slot, Phase.QUEUED, Phase.TAKEN_BACK) === Phase.QUEUED;
  }

  /** A plain success, with its run time. */
  succeed(slot: number, durationMs: number): void {
    Atomics.store(this.cells, CELLS * slot + 3, Math.min(MAX_US, Math.round(durationMs * 1000)));
    this.mark(slot, Phase.SUCCEEDED);
  }

  phase(slot: number): Phase {
    return Atomics.load(this.cells, CELLS * slot) as Phase;
  }

  /** The task's phase, how long it has been in it, the thread that took it, a success's run time. */
  read(slot: number): { phase: Phase; forMs: number; threadId: number; durationMs: number } {
    const phase = Atomics.load(this.cells, CELLS * slot) as Phase;
    const since = Atomics.load(this.cells, CELLS * slot + 1);
    return {
      phase,
      forMs: (this.clock() - since) >>> 0,
      threadId: Atomics.load(this.cells, CELLS * slot + 2),
      durationMs: Atomics.load(this.cells, CELLS * slot + 3) / 1000,
    };
  }

  private clock(): number {
    return (Date.now() - this.epoch) | 0;
  }
}
