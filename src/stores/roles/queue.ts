// The claim loop's role: the hot path of claim, record and release.
import type { ClaimedJob, JobId, JobRef, JobResult, RecordReport } from '../rows.js';

/** The runtime's hot path: claim due jobs, record what became of them, give back what did not run. */
export interface Queue {
  /**
   * Atomically claims up to `limit` due jobs for `owner`: `queues` in strict order (all of the
   * first queue's due jobs before any of the second's), within a queue by priority (lower
   * first), then due time, then id; null means every queue. Increments each job's attempts. Two
   * claimers never get the same job. Reads only the rows it takes, whatever else the store holds.
   * Flow control, all in the same transaction or script as the claim:
   * - a job whose concurrency key already has `limit` jobs processing is not taken: it becomes
   *   'blocked' (attempt not charged) until a job of that key stops processing (recorded,
   *   released, recovered), which puts the first blocked one (claim order) back to 'new';
   * - a job whose rate key has had `limit` starts in the current window is not taken: its due
   *   time moves to the next window plus jitter (attempt not charged);
   * - a unique key held `until: 'started'` is released.
   * A claim may return fewer than `limit` jobs when limits held some back.
   */
  claim(params: { owner: string; queues: string[] | null; limit: number }): Promise<ClaimedJob[]>;
  /**
   * Claims, as `claim` does, those of `ids` that are due, in `queues` (null: any) and not
   * paused, in one round trip; other due jobs are not looked at. For a runtime woken for a
   * dispatch whose ids the wake-up named: it starts them without first searching the queue,
   * then claims as usual, so jobs due before them wait one claim longer at most. Returned by due time then id.
   */
  claimByIds(params: { owner: string; queues: string[] | null; ids: JobId[] }): Promise<ClaimedJob[]>;
  /**
   * Records results of jobs claimed by `owner`, in one round trip where the store allows. Each
   * applies only while that claim (id and token) is still held by `owner`; the others (given
   * back, recovered, claimed again since) are left alone and reported as stale. A job that
   * ends (completed or finally failed) releases its unique key in the same write; a job that
   * stops processing (any outcome) frees its concurrency slot, exactly once, unblocking the next
   * blocked job of its key.
   * With `keepOutcomes`, each result applied also writes its OutcomeEvent (completed, failed,
   * retrying) in the same transaction or script, and a stale one none; without it, no statement
   * more than before.
   */
  record(params: { owner: string; results: JobResult[]; keepCompleted?: boolean; keepOutcomes?: boolean }): Promise<RecordReport>;
  /** Gives back claims `owner` holds but did not start: `new` again, the attempt not charged. */
  release(params: { owner: string; jobs: JobRef[] }): Promise<number>;
  /**
   * Gives back every claim `owner` holds except `held`, as `release` does. After a claim whose
   * outcome is unknown (the reply was lost, the claim may have committed), this returns what it
   * may have taken.
   */
  releaseUnheld(params: { owner: string; held: JobRef[] }): Promise<number>;
}
