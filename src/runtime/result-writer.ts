import { refKey } from '../stores/claim-token.js';
import type { JobRef, JobResult, Queue } from '../stores/store.js';

// Results are written in batches: while one write is in flight, the next results gather, so the
// batch size follows the load (one job: written at once; 20k/s: hundreds per write, plus what
// arrives in GATHER_MS while results stream in).
// When the store is down, results stay here and are written once it is back: none is lost.
// Each result carries what to report once it is in the store (its ✔ or ✖ line), so the log
// never says a job was done before the store does; a result the store refused as stale (its
// claim was given back or taken over meanwhile) is reported as dropped instead.

/** A result waiting to be written, and what to report once the store has answered. */
export interface PendingResult {
  result: JobResult;
  /** Called once the result is in the store. */
  recorded: () => void;
}

export interface ResultWriterEvents {
  /** A write failed; `pending` results are kept in memory and retried. */
  storeDown(e: unknown, pending: number): void;
  /** A write succeeded after failures. */
  storeUp(): void;
  /** Results of claims this runtime no longer held: not applied (a peer took the jobs over). */
  dropped(results: JobResult[]): void;
}

const MAX_BATCH = 2000;
const MAX_BACKOFF_MS = 5_000;
const STREAMING_BATCH = 50;
const GATHER_MS = 5;

export class ResultWriter {
  private buffer: PendingResult[] = [];
  /** The batch being written now. */
  private writing: PendingResult[] = [];
  private flushing: Promise<void> | null = null;
  private failures = 0;
  private lastBatch = 0;
  /** When the last write started (performance.now()). */
  private lastWriteAt = -Infinity;

  constructor(
    private readonly queue: Pick<Queue, 'record'>,
    private readonly owner: string,
    /** What record() keeps besides the new states: completed rows, outcome events. */
    private readonly keep: { keepCompleted: boolean; keepOutcomes: boolean },
    private readonly events: ResultWriterEvents,
  ) {}

  get pending(): number {
    return this.buffer.length + this.writing.length;
  }

  /** Claims whose results are not in the store yet: still this runtime's, though no longer running. */
  pendingRefs(): JobRef[] {
    return [...this.writing, ...this.buffer].map((p) => p.result);
  }

  add(pending: PendingResult): void {
    this.buffer.push(pending);
    this.flushing ??= this.flushLoop();
  }

  /** Resolves once every result given so far is in the store. */
  async drain(): Promise<void> {
    while (this.flushing) await this.flushing;
  }

  private async flushLoop(): Promise<void> {
    while (this.buffer.length > 0) {
      // Let results that already arrived from the threads join this batch. A synchronous store
      // (SQLite) would otherwise write, and commit, one result at a time.
      await new Promise((r) => setImmediate(r));
      // While results keep coming, gather them: under load (the last batch was large) for
      // GATHER_MS more (W1 on MariaDB: about +9%), and at a steady pace so that writes start at
      // most every GATHER_MS (jobs of ~10 ms at 1,500/s: a third of the writes, and of the
      // store's CPU per job). A result after a pause of 5 ms or more, or a trickle, is written at once.
      const waitMs = this.lastBatch >= STREAMING_BATCH ? GATHER_MS : this.lastWriteAt + GATHER_MS - performance.now();
      if (waitMs > 0) await new Promise((r) => setTimeout(r, waitMs));
      const batch = this.buffer.splice(0, MAX_BATCH);
      this.lastBatch = batch.length;
      this.lastWriteAt = performance.now();
      this.writing = batch;
      try {
        const results = batch.map((p) => p.result);
        const { stale } = await this.queue.record({
          owner: this.owner,
          results,
          keepCompleted: this.keep.keepCompleted,
          ...(this.keep.keepOutcomes ? { keepOutcomes: true } : {}),
        });
        this.writing = [];
        if (this.failures > 0) this.events.storeUp();
        this.failures = 0;
        if (stale.length === 0) for (const p of batch) p.recorded();
        else this.settleWithStale(batch, stale);
      } catch (e) {
        this.writing = [];
        this.buffer.unshift(...batch);
        this.failures++;
        this.events.storeDown(e, this.buffer.length);
        await new Promise((r) => setTimeout(r, Math.min(MAX_BACKOFF_MS, 100 * 2 ** this.failures)));
      }
    }
    this.lastBatch = 0; // idle again: the next result is written at once
    this.flushing = null;
  }

  private settleWithStale(batch: PendingResult[], stale: JobRef[]): void {
    const refused = new Set(stale.map(refKey));
    const dropped: JobResult[] = [];
    for (const p of batch) {
      if (refused.has(refKey(p.result))) dropped.push(p.result);
      else p.recorded();
    }
    this.events.dropped(dropped);
  }
}
