import type { JobId, JobRecord } from './rows.js';

// Listing jobs of a queue and throughput by minute (the dashboard, issue 18); re-exported by rows.ts.

/** 'waiting': due and unclaimed, blocked ones included; 'completed': rows kept by keepCompleted. */
export type JobListState = 'waiting' | 'delayed' | 'processing' | 'failed' | 'completed';

export const JOB_LIST_STATES: readonly JobListState[] = ['waiting', 'delayed', 'processing', 'failed', 'completed'];

/**
 * Which jobs of one queue Admin.listJobs reads. `after` is the `next` of the previous page
 * (opaque, store-made): pages are keyset-paginated, never by offset, so page 1000 costs what
 * page 1 does. `handler` keeps only that handler's jobs; `id` only that job.
 */
export interface JobListSelection {
  queue: string;
  state: JobListState;
  handler?: string;
  id?: JobId;
  after?: string | null;
  /** Jobs per page, 1…500. */
  limit: number;
}

export interface JobListPage {
  jobs: JobRecord[];
  /**
   * Where the next page starts, null after the last one. With a handler filter a page may hold
   * fewer than `limit` jobs (even none) and still have a next: each page looks at a bounded
   * stretch of the queue's index (JOB_LIST_SCAN jobs), so a rare handler never costs a full scan.
   */
  next: string | null;
}

/** Jobs a page with a handler filter looks at, at most, before it returns what it found. */
export const JOB_LIST_SCAN = 2000;

/** Jobs finished in one minute (store clock), over every queue or one. */
export interface ThroughputMinute {
  /** The minute's start, ms since the epoch. */
  minuteMs: number;
  completed: number;
  failed: number;
}
