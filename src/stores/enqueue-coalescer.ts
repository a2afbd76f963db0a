import { assertPayloadSize } from '../values/payload.js';
import { jobBytes } from './chunk-jobs.js';
import type { Enqueued, JobId, NewJob } from './store.js';

// Concurrent dispatches from one process share a round trip: while a write is in flight, the
// enqueues that arrive gather, and go together as one write (one multi-row INSERT, one script)
// as soon as it returns. A lone dispatch goes at once: nothing waits on a timer.
//
// One write in flight at a time, unless it stalls: each statement costs both processes a
// round trip, a parse and a commit whatever its size, so under a web server's load one write
// in flight carrying everything that arrived meanwhile costs far less CPU than several smaller
// ones in parallel (W7 on MariaDB: 27% less CPU in the dispatching process, 11% less in
// MariaDB, p99 lower). A write still out after STALL_MS (a slow commit, a lock wait) lets the
// next one go on another connection, up to maxInFlight, so one stuck statement does not hold
// up every dispatch.
//
// Each caller's jobs stay together in one write (a dispatchMany is all or nothing, as alone) and
// get their own ids, in order. Payload limits are checked per caller before gathering, so an
// oversized payload is refused alone and never reaches a shared statement. A failed write fails
// every caller whose jobs were in it, and none is retried here: a write is all or nothing, so
// nothing is half-written, and nothing is written twice.

/** What a store's producer gives the coalescer. */
export interface EnqueueWriter {
  /** The store's name in messages ('mysql'). */
  store: string;
  maxPayloadBytes(): Promise<number>;
  /** Rows and bytes (chunk-jobs' estimate) one statement holds: a gathered write stays within them. */
  statementLimit(maxPayloadBytes: number): { rows: number; bytes: number };
  /**
   * Inserts the jobs all or nothing; their ids in order, or what became of each (Enqueued: a
   * store that enforces unique keys says which were duplicates). Jobs of several callers go in
   * one write in caller order, so a later caller's job with an earlier one's unique key is its
   * duplicate, as it would be if the two calls ran one after the other.
   */
  write(jobs: NewJob[]): Promise<JobId[] | Enqueued[]>;
  /**
   * Writes that finish inside the call (SQLite's driver blocks until its commit): the write slot
   * stays taken until the event loop's next turn, so the dispatches made meanwhile gather.
   */
  synchronous?: boolean;
  /** Writes in flight at once when earlier ones stall (default 1). */
  maxInFlight?: number;
}

/** How long a write may be out before the next one goes beside it on another connection. */
export const STALL_MS = 5;

/** How many writes carried how many jobs: for tests and benchmarks. */
export interface EnqueueStats {
  writes: number;
  jobs: number;
}

interface Caller {
  jobs: NewJob[];
  resolve(outcomes: Enqueued[]): void;
  reject(e: unknown): void;
}

interface Batch {
  callers: Caller[];
  rows: number;
  bytes: number;
}

export class EnqueueCoalescer {
  readonly stats: EnqueueStats = { writes: 0, jobs: 0 };
  private inFlight = 0;
  /** When the latest write went: once it is STALL_MS old, another may go beside it. */
  private lastLaunchAt = 0;
  private stallTimer: NodeJS.Timeout | null = null;
  private readonly waiting: Batch[] = [];

  constructor(private readonly writer: EnqueueWriter) {}

  async enqueue(jobs: NewJob[]): Promise<JobId[]> {
    return (await this.enqueueWithOutcome(jobs)).map((e) => e.id);
  }

  async enqueueWithOutcome(jobs: NewJob[]): Promise<Enqueued[]> {
    if (jobs.length === 0) return [];
    const max = await this.writer.maxPayloadBytes();
    for (const j of jobs) assertPayloadSize(j.payload, max, this.writer.store);
    const bytes = jobs.reduce((sum, j) => sum + jobBytes(j), 0);
    return new Promise<Enqueued[]>((resolve, reject) => {
      const caller = { jobs, resolve, reject };
      if (this.waiting.length === 0 && this.mayLaunch()) {
        this.launch({ callers: [caller], rows: jobs.length, bytes });
        return;
      }
      const limit = this.writer.statementLimit(max);
      const last = this.waiting.at(-1);
      if (last && last.rows + jobs.length <= limit.rows && last.bytes + bytes <= limit.bytes) {
        last.callers.push(caller);
        last.rows += jobs.length;
        last.bytes += bytes;
      } else {
        // A caller larger than one statement goes alone; the store splits it in one transaction.
        this.waiting.push({ callers: [caller], rows: jobs.length, bytes });
      }
      this.watchForStall();
    });
  }

  /** Nothing in flight, or every write in flight has been out STALL_MS and a connection is free. */
  private mayLaunch(): boolean {
    if (this.inFlight === 0) return true;
    return this.inFlight < (this.writer.maxInFlight ?? 1) && performance.now() - this.lastLaunchAt >= STALL_MS;
  }

  /** While dispatches wait behind a write, checks at its STALL_MS mark whether another may go. */
  private watchForStall(): void {
    if (this.stallTimer !== null || this.waiting.length === 0 || this.inFlight >= (this.writer.maxInFlight ?? 1)) return;
    const wait = Math.max(0, this.lastLaunchAt + STALL_MS - performance.now());
    this.stallTimer = setTimeout(() => {
      this.stallTimer = null;
      this.launchWaiting();
    }, wait);
    this.stallTimer.unref(); // the write in flight keeps the process alive
  }

  private launchWaiting(): void {
    while (this.waiting.length > 0 && this.mayLaunch()) this.launch(this.waiting.shift()!);
    this.watchForStall();
  }

  private launch(batch: Batch): void {
    this.inFlight++;
    this.lastLaunchAt = performance.now();
    this.stats.writes++;
    this.stats.jobs += batch.rows;
    const jobs = batch.callers.length === 1 ? batch.callers[0]!.jobs : batch.callers.flatMap((c) => c.jobs);
    let written: Promise<JobId[] | Enqueued[]>;
    try {
      written = this.writer.write(jobs);
    } catch (e) {
      written = Promise.reject(e);
    }
    if (this.writer.synchronous) setImmediate(() => this.done());
    written.then(
      (written) => {
        const outcomes = written.map((w: JobId | Enqueued) => (typeof w === 'number' ? { id: w, duplicate: false } : w));
        let at = 0;
        for (const c of batch.callers) {
          c.resolve(outcomes.slice(at, at + c.jobs.length));
          at += c.jobs.length;
        }
        if (!this.writer.synchronous) this.done();
      },
      (e: unknown) => {
        for (const c of batch.callers) c.reject(e);
        if (!this.writer.synchronous) this.done();
      },
    );
  }

  private done(): void {
    this.inFlight--;
    this.launchWaiting();
  }
}
