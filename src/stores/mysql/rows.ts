import type { RowDataPacket } from 'mysql2/promise';
import type { JobRecord } from '../store.js';

// A jobs row as operators read it: shared by Admin (admin.ts) and Admin.listJobs (list-jobs.ts).

export function toRecord(r: RowDataPacket): JobRecord {
  return {
    id: Number(r.id),
    handler: r.handler,
    queue: r.queue,
    payload: r.payload,
    status: r.status,
    attempts: Number(r.attempts),
    maxAttempts: Number(r.max_attempts),
    exception: r.exception ?? null,
    createdAt: r.created_at,
    scheduledAt: r.scheduled_at,
    failedAt: r.failed_at ?? null,
    owner: r.owner ?? null,
    interruptions: Number(r.interruptions),

    priority: Number(r.priority ?? 0),
    uniqueKey: r.unique_key ?? null,
    concurrencyKey: r.concurrency_key ?? null,
    rateKey: r.rate_key ?? null,
  };
}
