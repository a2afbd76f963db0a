import { assertPayloadSize } from '../../values/payload.js';
import type { JobId, NewJob, Producer } from '../store.js';
import type { SqliteDatabase } from './database.js';

// SQLite's own limit on one value is 1e9 bytes; stay well below to keep memory sane.
const MAX_PAYLOAD_BYTES = 256 * 1024 * 1024;

/** Dispatch: one IMMEDIATE transaction per dispatchMany. */
export class SqliteProducer implements Producer {
  constructor(private readonly db: SqliteDatabase) {}

  get displayUrl(): string {
    return this.db.displayUrl;
  }

  async maxPayloadBytes(): Promise<number> {
    return MAX_PAYLOAD_BYTES;
  }

  async close(): Promise<void> {
    this.db.close();
  }

  async enqueue(params: { jobs: NewJob[] }): Promise<JobId[]> {
    for (const j of params.jobs) assertPayloadSize(j.payload, MAX_PAYLOAD_BYTES, 'sqlite');
    const now = Date.now();
    const insert = this.db.stmt<unknown[], { id: number }>(
      `INSERT INTO jobs (handler, queue, payload, status, attempts, max_attempts, retry_after_ms, timeout_ms, created_at, scheduled_at)
       VALUES (?, ?, ?, 'new', 0, ?, ?, ?, ?, ?) RETURNING id`,
    );
    // One transaction: a dispatchMany is all or nothing, and costs one commit.
    return this.db.handle
      .transaction((jobs: NewJob[]) =>
        jobs.map((j) => insert.get(j.handler, j.queue, j.payload, j.maxAttempts, j.retryAfterMs, j.timeoutMs, now, now + j.delayMs)!.id),
      )
      .immediate(params.jobs);
  }
}
