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
  priority: number;
  retry_policy: string | null;
  unique_key: string | null;
  unique_until: 'started' | 'done' | null;
  unique_expires_at: number | null;
  concurrency_key: string | null;
  concurrency_limit: number | null;
  rate_key: string | null;
  rate_limit: number | null;
  rate_per_ms: number | null;
  /** 1 while a rate limit deferred the job (to its key's next window); 0 again once claimed. */
  rate_deferred: number;
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
    priority: r.priority,
    uniqueKey: r.unique_key,
    concurrencyKey: r.concurrency_key,
    rateKey: r.rate_key,
  };
}
