import { newClaimToken, refsNotIn } from '../claim-token.js';
import type { ClaimedJob, JobId, JobRef, JobResult, Queue, RecordReport } from '../store.js';
import { NEXT_PRIORITY_ALL, NEXT_PRIORITY_QUEUE, TAKE_ALL, TAKE_QUEUE, takeByIds } from './claim-sql.js';
import type { SqliteDatabase } from './database.js';
import { ClaimAdmission, freeSlots } from './flow-limits.js';
import { INSERT_OUTCOME } from './outcomes.js';
import type { JobRow } from './rows.js';

/** Below every priority a job can have (−1000…1000): the first seek of a claim. */
const BEFORE_ALL_PRIORITIES = -1_000_000;
/**
 * Extra reads of one priority after limits held rows back (blocked, rate-deferred) and the claim
 * is not full: bounded, so a claim never loops on a queue of held-back jobs.
 */
const EXTRA_PASSES = 3;

/**
 * The claim loop's path: per priority, UPDATE … WHERE id IN (SELECT … LIMIT n) RETURNING (claim-sql.ts),
 * then flow-limits.ts puts back what limits hold back; atomic under SQLite's write lock.
 */
export class SqliteQueue implements Queue {
  constructor(private readonly db: SqliteDatabase) {}

  async claim(params: { owner: string; queues: string[] | null; limit: number }): Promise<ClaimedJob[]> {
    const { owner, queues, limit } = params;
    if (limit <= 0) return [];
    const nextAll = this.db.stmt<[number], { p: number | null }>(NEXT_PRIORITY_ALL);
    const nextQueue = this.db.stmt<[string, number], { p: number | null }>(NEXT_PRIORITY_QUEUE);
    const takeAll = this.db.stmt<unknown[], JobRow>(TAKE_ALL);
    const takeQueue = this.db.stmt<unknown[], JobRow>(TAKE_QUEUE);
    // Paused queues (jobs_paused) are never claimed: a named queue that is paused is skipped
    // before its rows are read (SQLite would test a NOT EXISTS on every due row of it).
    const paused = queues === null ? null : this.db.stmt<[], string>('SELECT queue FROM jobs_paused');
    const token = newClaimToken();
    // IMMEDIATE takes the write lock up front: the claim is atomic against other processes.
    return this.db.handle
      .transaction(() => {
        // The clock is read once the write lock is held: a claim that waited for it must not
        // count its starts in a rate window that has already ended (and been pruned).
        const now = Date.now();
        const admission = new ClaimAdmission(this.db, token, now);
        const claimed: ClaimedJob[] = [];
        const skip = paused?.pluck().all();
        let extra = 0;
        claiming: for (const queue of queues ?? [null]) {
          if (queue !== null && skip?.includes(queue)) continue;
          for (let after = BEFORE_ALL_PRIORITIES; claimed.length < limit; ) {
            const p = (queue === null ? nextAll.get(after) : nextQueue.get(queue, after))?.p ?? null;
            if (p === null) break;
            for (;;) {
              const want = limit - claimed.length;
              const rows = queue === null ? takeAll.all(owner, now, token, p, now, want) : takeQueue.all(owner, now, token, queue, p, now, want);
              // RETURNING has no defined order: restore the claim order before admitting.
              rows.sort((a, b) => a.scheduled_at - b.scheduled_at || a.id - b.id);
              const kept = admission.admit(rows);
              for (const r of kept) claimed.push(toClaimed(r));
              if (rows.length < want) break; // this priority has no more due rows: the next one
              if (kept.length === rows.length) break claiming; // full
              // Limits held some back: read on past them, a bounded number of times. Stopping
              // here leaves later queues alone too, so strict queue order holds.
              if (extra++ >= EXTRA_PASSES) break claiming;
            }
            after = p;
          }
        }
        return claimed;
      })
      .immediate();
  }

  async claimByIds(params: { owner: string; queues: string[] | null; ids: JobId[] }): Promise<ClaimedJob[]> {
    const { owner, queues, ids } = params;
    if (ids.length === 0 || queues?.length === 0) return [];
    const token = newClaimToken();
    const take = this.db.stmt<unknown[], JobRow>(takeByIds(ids.length, queues?.length ?? null));
    return this.db.handle
      .transaction(() => {
        const now = Date.now(); // under the write lock, as claim() reads it
        const rows = take.all(owner, now, token, ...ids, now, ...(queues ?? []));
        // RETURNING has no defined order.
        rows.sort((a, b) => a.scheduled_at - b.scheduled_at || a.id - b.id);
        return new ClaimAdmission(this.db, token, now).admit(rows).map(toClaimed);
      })
      .immediate();
  }

  async record(params: { owner: string; results: JobResult[]; keepCompleted?: boolean; keepOutcomes?: boolean }): Promise<RecordReport> {
    const { owner, results } = params;
    if (results.length === 0) return { stale: [] };
    const now = Date.now();
    const keep = params.keepCompleted === true;
    // Keeping outcomes: each statement also returns what the event needs, and the event is
    // inserted in this transaction; without, the statements are the ones they always were.
    const outcomes = params.keepOutcomes === true;
    const returning = outcomes ? 'RETURNING concurrency_key, handler, attempts' : 'RETURNING concurrency_key';
    type Ended = { concurrency_key: string | null; handler?: string; attempts?: number };
    // Each applies only to its claim: owner, status and fencing token must match. A job that
    // ends gives up its unique key (a deleted row holds none); a retry keeps it.
    const held = "owner = ? AND status = 'processing' AND claim_token = ?";
    const complete = this.db.stmt<unknown[], Ended>(
      keep
        ? `UPDATE jobs SET status = 'completed', owner = NULL, completed_at = ?, unique_key = NULL WHERE id = ? AND ${held} ${returning}`
        : `DELETE FROM jobs WHERE id = ? AND ${held} ${returning}`,
    );
    const retry = this.db.stmt<unknown[], Ended>(
      `UPDATE jobs SET status = 'new', owner = NULL, claimed_at = NULL, exception = ?, scheduled_at = ? WHERE id = ? AND ${held} ${returning}`,
    );
    const fail = this.db.stmt<unknown[], Ended>(
      `UPDATE jobs SET status = 'failed', owner = NULL, claimed_at = NULL, exception = ?, failed_at = ?, unique_key = NULL
        WHERE id = ? AND ${held} ${returning}`,
    );
    const event = outcomes ? this.db.stmt(INSERT_OUTCOME) : null;
    const count = this.db.stmt(
      `INSERT INTO jobs_stats (minute, queue, completed, failed) VALUES (?, ?, ?, ?)
        ON CONFLICT (minute, queue) DO UPDATE SET completed = completed + excluded.completed, failed = failed + excluded.failed`,
    );
    return this.db.handle
      .transaction(() => {
        const stale: JobRef[] = [];
        const freed: (string | null)[] = [];
        // Throughput counters from each statement's changes: only claims this owner still held count.
        const finished = new Map<string, { completed: number; failed: number }>();
        const tally = (queue: string, outcome: 'completed' | 'failed') => {
          const c = finished.get(queue) ?? { completed: 0, failed: 0 };
          c[outcome]++;
          finished.set(queue, c);
        };
        for (const r of results) {
          const claim = [r.id, owner, r.token] as const;
          let ended: Ended | undefined;
          if (r.outcome === 'completed') ended = keep ? complete.get(now, ...claim) : complete.get(...claim);
          else if (r.outcome === 'retry') ended = retry.get(r.error, now + r.delayMs, ...claim);
          else ended = fail.get(r.error, now, ...claim);
          if (!ended) stale.push({ id: r.id, token: r.token });
          else {
            freed.push(ended.concurrency_key);
            if (r.outcome !== 'retry') tally(r.queue, r.outcome);
            if (event) {
              const kind = r.outcome === 'retry' ? 'retrying' : r.outcome;
              const error = r.outcome === 'completed' ? null : r.error;
              const result = r.outcome === 'completed' ? (r.result ?? null) : null;
              event.run(r.id, kind, ended.handler, r.queue, r.attempt ?? ended.attempts, r.durationMs ?? null, error, result, now);
            }
          }
        }
        const minute = Math.floor(now / 60_000);
        for (const [queue, c] of finished) count.run(minute, queue, c.completed, c.failed);
        // Slots of every job that stopped processing, in this same transaction.
        freeSlots(this.db, freed);
        return { stale };
      })
      .immediate();
  }

  async release(params: { owner: string; jobs: JobRef[] }): Promise<number> {
    const stmt = this.db.stmt<unknown[], { concurrency_key: string | null }>(
      `UPDATE jobs SET status = 'new', owner = NULL, claimed_at = NULL, attempts = MAX(attempts - 1, 0)
        WHERE id = ? AND owner = ? AND status = 'processing' AND claim_token = ? RETURNING concurrency_key`,
    );
    return this.db.handle
      .transaction(() => {
        const freed = params.jobs.flatMap((r) => stmt.all(r.id, params.owner, r.token).map((e) => e.concurrency_key));
        freeSlots(this.db, freed);
        return freed.length;
      })
      .immediate();
  }

  async releaseUnheld(params: { owner: string; held: JobRef[] }): Promise<number> {
    const rows = this.db
      .stmt<[string], { id: number; claim_token: string }>("SELECT id, claim_token FROM jobs WHERE status = 'processing' AND owner = ?")
      .all(params.owner);
    return this.release({
      owner: params.owner,
      jobs: refsNotIn(
        rows.map((r) => ({ id: r.id, token: r.claim_token })),
        params.held,
      ),
    });
  }
}

function toClaimed(r: JobRow): ClaimedJob {
  return {
    id: r.id,
    token: r.claim_token!,
    handler: r.handler,
    queue: r.queue,
    payload: r.payload,
    attempts: r.attempts,
    maxAttempts: r.max_attempts,
    retryAfterMs: r.retry_after_ms,
    timeoutMs: r.timeout_ms,
    scheduledAtMs: r.scheduled_at,
    priority: r.priority,
    retryPolicy: r.retry_policy,
  };
}
