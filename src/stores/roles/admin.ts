// The operators' role (CLI, dashboard; the runtime only for upkeep: pruner, metrics), off the
// claim and dispatch paths.
import type {
  FailedPage,
  FailedSelection,
  ForeignHandlerQueue,
  JobId,
  JobListPage,
  JobListSelection,
  JobRecord,
  MigrationReport,
  PausedQueue,
  PruneReport,
  QueueCounts,
  QueueThroughput,
  ScheduleRecord,
  ThroughputMinute,
  TimeShiftReport,
} from '../rows.js';

/** What operators read and change: the schema, counts, single jobs, failed jobs, pauses, retention. */
export interface Admin {
  /** Every schedule, static (even if no runtime declares it any more) and dynamic, by key. */
  listSchedules(params?: Record<string, never>): Promise<ScheduleRecord[]>;
  /**
   * Removes static schedule `key` when no registered runtime declares it any more (its class
   * dropped it, or every runtime that declared it is gone), with its declarations and tick
   * records: its key is free again, and a runtime that declares it later starts it afresh.
   * While a registered runtime declares it nothing changes and `declaredBy` names them, checked
   * under the same lock as a declaration. `removed: false, declaredBy: []`: no static schedule `key`.
   */
  removeUndeclaredSchedule(params: { key: string }): Promise<{ removed: boolean; declaredBy: string[] }>;
  /**
   * Creates or upgrades the schema in place; idempotent; never drops rows. `requeueLegacyClaimed`:
   * jobs the system this runtime replaces left claimed (MySQL: status 'queued') on
   * `requeueQueues` go back to new, their attempt not charged (a store that holds such jobs
   * refuses it without `requeueQueues`: a PHP worker may be running them); without it they are
   * only reported, in `notices`. `createDatabase`: first create the URL's database when it does
   * not exist (MySQL; other stores have none).
   */
  migrate(params: { dryRun?: boolean; requeueLegacyClaimed?: boolean; requeueQueues?: string[]; createDatabase?: boolean }): Promise<MigrationReport>;
  /**
   * Stores another system's workers share (MySQL, with Lightpack's PHP workers): the queues
   * holding rows whose handler is that system's (a PHP class name). Others have none.
   */
  foreignHandlerQueues?(params?: Record<string, never>): Promise<ForeignHandlerQueue[]>;
  /**
   * MySQL: moves the due times of waiting rows the other system wrote in `fromZone`'s wall clock
   * (Lightpack up to v0.8.2) to UTC; `dryRun`: only says what it would change.
   */
  shiftWaitingTimes?(params: { fromZone: string; dryRun: boolean }): Promise<TimeShiftReport>;
  /** Counts per queue; queues with no jobs are left out. */
  counts(params: { queues?: string[] }): Promise<QueueCounts[]>;
  /** One job, for inspection; null when it does not exist (completed jobs are deleted). */
  getJob(params: { id: JobId }): Promise<JobRecord | null>;
  /** Failed jobs matching `selection`, most recent failure first, at most `limit`. */
  listFailed(params: FailedSelection & { limit: number }): Promise<FailedPage>;
  /**
   * Puts matching failed jobs back: status new, due now, attempts and interruptions 0, the
   * exception kept until the next run overwrites it. Returns how many.
   */
  retryFailed(params: FailedSelection): Promise<number>;
  /** Deletes matching failed jobs (forget by ids, flush by queue and age), in small batches. Returns how many. */
  deleteFailed(params: FailedSelection): Promise<number>;
  /**
   * Pauses or resumes a queue for every runtime: a claim never takes a paused queue's jobs.
   * Returns false when it already was in that state.
   */
  setQueuePaused(params: { queue: string; paused: boolean }): Promise<boolean>;
  listPausedQueues(params?: Record<string, never>): Promise<PausedQueue[]>;
  /**
   * Jobs completed and failed per queue in the current minute and the whole minutes before it
   * that overlap the last `sinceMs` (store clock): every job finished in that window is counted,
   * plus at most the rest of the oldest minute. Kept as one counter per queue and minute,
   * written by record() in the same transaction or script, trimmed after 48 hours.
   */
  throughput(params: { sinceMs: number }): Promise<QueueThroughput[]>;
  /**
   * The same counters minute by minute, oldest first, summed over every queue or for `queue`:
   * minutes with nothing finished are left out. For charts (the dashboard's 1 h and 48 h).
   */
  throughputByMinute(params: { sinceMs: number; queue?: string }): Promise<ThroughputMinute[]>;
  /**
   * One page of a queue's jobs in `state`, index-driven whatever the table holds. Order: SQL
   * stores list every state as a claim takes jobs (priority, due time, id), waiting ones
   * blocked included; Redis lists waiting jobs in claim order, then due ones no claim has moved
   * to its ready set yet (by due time), then blocked ones (by set scan); other states by the
   * time of their set (due, claimed, failed, completed), then id. A malformed `after` is an
   * InvalidInputError.
   */
  listJobs(params: JobListSelection): Promise<JobListPage>;
  /**
   * Deletes completed rows that completed more than `completedOlderThanMs` ago and failed rows
   * that failed more than `failedOlderThanMs` ago (null: keep them), `batchSize` rows per
   * statement or script so no claim waits on it; also trims throughput counters past 48 h.
   * `outcomesOlderThanMs` (absent or null: keep them) deletes outcome events written that long ago.
   */
  prune(params: {
    completedOlderThanMs: number | null;
    failedOlderThanMs: number | null;
    outcomesOlderThanMs?: number | null;
    batchSize?: number;
  }): Promise<PruneReport>;
}
