import { EnqueueCoalescer, type EnqueueStats } from '../enqueue-coalescer.js';
import type { Enqueued, JobId, NewJob, Producer } from '../store.js';
import type { SqliteDatabase } from './database.js';

// SQLite's own limit on one value is 1e9 bytes; stay well below to keep memory sane.
const MAX_PAYLOAD_BYTES = 256 * 1024 * 1024;
// Dispatches gathered into one transaction: each row is its own prepared INSERT (no statement
// variables to run out of), so the bound only keeps one commit from holding the event loop long.
const GATHER_ROWS = 2000;
const GATHER_BYTES = 16 * 1024 * 1024;

/**
 * Dispatch: one IMMEDIATE transaction (one commit) per dispatchMany, and per group of
 * dispatches made while the previous commit held the event loop (enqueue-coalescer.ts).
 */
export class SqliteProducer implements Producer {
  private readonly coalescer: EnqueueCoalescer;

  constructor(private readonly db: SqliteDatabase) {
    this.coalescer = new EnqueueCoalescer({
      store: 'sqlite',
      maxPayloadBytes: () => this.maxPayloadBytes(),
      statementLimit: () => ({ rows: GATHER_ROWS, bytes: GATHER_BYTES }),
      write: async (jobs) => this.insert(jobs),
      synchronous: true,
    });
  }

  get enqueueStats(): EnqueueStats {
    return this.coalescer.stats;
  }

  get displayUrl(): string {
    return this.db.displayUrl;
  }

  async maxPayloadBytes(): Promise<number> {
    return MAX_PAYLOAD_BYTES;
  }

  async close(): Promise<void> {
    this.db.close();
  }

  /** Until this store enforces unique keys (issue 15, in progress), no job is a duplicate. */
  async enqueueWithOutcome(params: { jobs: NewJob[] }): Promise<Enqueued[]> {
    return (await this.enqueue(params)).map((id) => ({ id, duplicate: false }));
  }

  enqueue(params: { jobs: NewJob[] }): Promise<JobId[]> {
    return this.coalescer.enqueue(params.jobs);
  }

  private insert(jobs: NewJob[]): JobId[] {
    const now = Date.now();
    const insert = this.db.stmt<unknown[], { id: number }>(
      `INSERT INTO jobs (handler, queue, payload, status, attempts, max_attempts, retry_after_ms, timeout_ms, created_at, scheduled_at)
       VALUES (?, ?, ?, 'new', 0, ?, ?, ?, ?, ?) RETURNING id`,
    );
    // One transaction: all or nothing, and one commit.
    return this.db.handle
      .transaction((rows: NewJob[]) =>
        rows.map((j) => insert.get(j.handler, j.queue, j.payload, j.maxAttempts, j.retryAfterMs, j.timeoutMs, now, now + j.delayMs)!.id),
      )
      .immediate(jobs);
  }
}
