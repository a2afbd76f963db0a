import type { JobId, JobRecord, JobStatus } from '../store.js';

// A job hash as operators read it: shared by Admin (admin.ts) and Admin.listJobs (list-jobs.ts).

/**
 * A job hash as an operator reads it; null when the hash is gone. `uniqueHeld`: its unique lock
 * still names it (failed jobs, the ones listed, released theirs when they failed).
 */
export function toRecord(id: JobId, h: Record<string, string>, uniqueHeld: boolean): JobRecord | null {
  if (!h.queue) return null;
  const time = (v: string | undefined) => (v === undefined ? null : new Date(Number(v)));
  return {
    id,
    handler: h.handler ?? '',
    queue: h.queue,
    payload: h.payload ?? '',
    status: (h.status ?? 'new') as JobStatus,
    attempts: Number(h.attempts ?? 0),
    maxAttempts: Number(h.max_attempts ?? 1),
    exception: h.exception ?? null,
    createdAt: time(h.created_at) ?? new Date(0),
    scheduledAt: time(h.scheduled_at) ?? new Date(0),
    failedAt: time(h.failed_at),
    owner: h.owner ?? null,
    interruptions: Number(h.interruptions ?? 0),
    priority: Number(h.priority ?? 0),
    uniqueKey: uniqueHeld ? (h.unique_key ?? null) : null,
    concurrencyKey: h.conc_key ?? null,
    rateKey: h.rate_key ?? null,
  };
}
