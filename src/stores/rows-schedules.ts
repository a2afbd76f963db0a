import type { JobId, NewJob } from './rows.js';

// The rows of recurring schedules (issue 16) that cross the store seam; re-exported by rows.ts.

/** How a schedule's ticks missed while no runtime ran are treated: none run, or one catch-up run for all of them. */
export type MisfirePolicy = 'skip' | 'once';

/** A recurring schedule as runtimes (static: declared on a job class) or the application (dynamic) define it. */
export interface ScheduleDefinition {
  /** Unique across the store: a safe name (values/names.ts assertScheduleKey). */
  key: string;
  /** Cron text as written (5 or 6 fields, or a nickname), already validated. */
  cron: string;
  /** IANA time zone the cron is read in; 'UTC' by default. */
  tz: string;
  misfire: MisfirePolicy;
  /**
   * The job each tick enqueues, as dispatch would store it (handler, queue, payload, attempts,
   * priority…); `delayMs` is ignored. JSON-safe: stores keep it as text.
   */
  job: NewJob;
}

export interface ScheduleRecord extends ScheduleDefinition {
  kind: 'static' | 'dynamic';
  /** Registered runtimes declaring it now (static); empty for dynamic ones. */
  declaredBy: string[];
  /** The latest tick enqueued (ms since the epoch), null before the first. */
  lastTickAtMs: number | null;
  /** The job the latest tick enqueued (it may be gone: completed jobs are deleted). */
  lastJobId: JobId | null;
  updatedAt: Date;
}

/** What enqueueTick did. */
export interface TickOutcome {
  /** The job of that tick: enqueued now, or by whoever claimed the tick first. Null when the schedule is gone. */
  id: JobId | null;
  /** True when this call enqueued it; false when the tick was already claimed (by this or another runtime). */
  enqueued: boolean;
}
