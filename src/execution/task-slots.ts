// Where each task handed to the thread pool stands, in shared memory: the threads write it, the
// master reads it to time a job's run (not its wait in the pool, nor the first load of its code)
// and to tell which job of a batch was running when its thread died.
//
// Two Int32 per slot: the phase, and when it began in ms since `epoch` modulo 2^32. Elapsed time
// is taken modulo 2^32 too, so a runtime that lives for months (2^31 ms is 24.8 days) still
// reads the right figure for any phase shorter than 49 days.

export const Phase = { QUEUED: 0, LOADING: 1, RUNNING: 2, FINISHED: 3 } as const;
export type Phase = (typeof Phase)[keyof typeof Phase];

/** How long loading a job's code may take in a thread (or the job's own limit, if longer). */
export const LOAD_LIMIT_MS = 30_000;

export class TaskSlots {
  private readonly cells: Int32Array;

  /** `buffer` holds `capacity` slots of two Int32 each (see `TaskSlots.allocate`). */
  constructor(
    readonly buffer: SharedArrayBuffer,
    readonly epoch: number,
  ) {
    this.cells = new Int32Array(buffer);
  }

  static allocate(capacity: number): TaskSlots {
    return new TaskSlots(new SharedArrayBuffer(capacity * 2 * Int32Array.BYTES_PER_ELEMENT), Date.now());
  }

  /** Records that the task in `slot` entered `phase` now. */
  mark(slot: number, phase: Phase): void {
    // The time first: a reader that sees the new phase then sees its time (Atomics are ordered).
    Atomics.store(this.cells, 2 * slot + 1, this.clock());
    Atomics.store(this.cells, 2 * slot, phase);
  }

  /** The task's phase and how long it has been in it. */
  read(slot: number): { phase: Phase; forMs: number } {
    const phase = Atomics.load(this.cells, 2 * slot) as Phase;
    const since = Atomics.load(this.cells, 2 * slot + 1);
    return { phase, forMs: (this.clock() - since) >>> 0 };
  }

  private clock(): number {
    return (Date.now() - this.epoch) | 0;
  }
}
