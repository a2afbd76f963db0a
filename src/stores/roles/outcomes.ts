// The application's outcome reads (waitFor, jobEvents), reached through Producer.outcomes.
import type { JobId, JobOutcomeState, OutcomePage } from '../rows.js';

/** The application's reads of outcomes: plain reads, never locks, from any process or host. */
export interface OutcomeReader {
  /**
   * Events whose ids may become visible out of order (MySQL: AUTO_INCREMENT values are taken
   * at insert, rows seen at commit): a follower re-reads the ids it skipped for a while.
   */
  readonly idsCommitOutOfOrder: boolean;
  /** The final (completed or failed) outcome of job `id` if kept, else where the job stands. One or two reads by key. */
  jobOutcome(params: { id: JobId }): Promise<JobOutcomeState>;
  /**
   * Events after `after` (null: from the oldest kept) in id order, of `queues` only when given;
   * `alsoIds` (stores with idsCommitOutOfOrder) are read too, wherever they are. `cursor` is the
   * last id looked at, to pass as the next `after`: past events a queue filter left out (a
   * store that filters after reading), so a follower of a quiet queue never reads them twice.
   * At most `limit` events are looked at.
   */
  outcomeEvents(params: { after: string | null; queues?: string[] | null; limit: number; alsoIds?: string[] }): Promise<OutcomePage>;
  /** The id of the newest event kept (null: none): where a follower without `since` starts. */
  lastEventId(params?: Record<string, never>): Promise<string | null>;
}
