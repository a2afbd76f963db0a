import type { JobRecord, JobStatus } from '../store.js';

// A jobs row as SQLite returns it, and its shape for operators.

/** A row of the jobs table as SELECT * returns it (see schema.ts). */
export interface JobRow {
  id: number;
  handler: string;
  queue: string;
  payload: string;
  status: JobStatus;
  attempts: number;
  max_attempts: number;
  retry_after_ms: number;
  timeout_ms: number | null;
  exception: string | null;
  created_at: number;
  scheduled_at: number;
  failed_at: number | null;
  owner: string | null;
  interruptions: number;
  claim_token: string | null;
}

export function toRecord(r: JobRow): JobRecord {
  return {
    id: r.id,
    handler: r.handler,
    queue: r.queue,
    payload: r.payload,
    status: r.status,
    attempts: r.attempts,
    maxAttempts: r.max_attempts,
    exception: r.exception,
    createdAt: new Date(r.created_at),
    scheduledAt: new Date(r.scheduled_at),
    failedAt: r.failed_at === null ? null : new Date(r.failed_at),
    owner: r.owner,
    interruptions: r.interruptions,
    priority: 0,
    uniqueKey: null,
    concurrencyKey: null,
    rateKey: null,
  };
}
