import { newClaimToken, refsNotIn } from '../claim-token.js';
import type { ClaimedJob, JobId, JobRef, JobResult, Queue, RecordReport } from '../store.js';
import type { SqliteDatabase } from './database.js';
import type { JobRow } from './rows.js';

/** The claim loop's path: UPDATE … WHERE id IN (SELECT … LIMIT n) RETURNING, atomic under SQLite's write lock. */
export class SqliteQueue implements Queue {
  constructor(private readonly db: SqliteDatabase) {}

  async claim(params: { owner: string; queues: string[] | null; limit: number }): Promise<ClaimedJob[]> {
    const { owner, queues, limit } = params;
    if (limit <= 0) return [];
    const now = Date.now();
    const allQueues = this.db.stmt<unknown[], JobRow>(
      `UPDATE jobs SET status = 'processing', attempts = attempts + 1, owner = ?, claimed_at = ?, claim_token = ?
        WHERE id IN (SELECT id FROM jobs INDEXED BY jobs_claim WHERE status = 'new' AND scheduled_at <= ?
                       AND queue NOT IN (SELECT queue FROM jobs_paused)
                     ORDER BY scheduled_at, id LIMIT ?)
        RETURNING *`,
    );
    const oneQueue = this.db.stmt<unknown[], JobRow>(
      `UPDATE jobs SET status = 'processing', attempts = attempts + 1, owner = ?, claimed_at = ?, claim_token = ?
        WHERE id IN (SELECT id FROM jobs INDEXED BY jobs_claim_queue WHERE queue = ? AND status = 'new' AND scheduled_at <= ?
                     ORDER BY scheduled_at, id LIMIT ?)
        RETURNING *`,
    );
    // Paused queues (jobs_paused) are never claimed: a named queue that is paused is skipped
    // before its rows are read (SQLite would test a NOT EXISTS on every due row of it); across
    // all queues the NOT IN reads the paused list once and due rows of paused queues are read past.
    const paused = queues === null ? null : this.db.stmt<[], string>('SELECT queue FROM jobs_paused');
    const token = newClaimToken();
    // IMMEDIATE takes the write lock up front: the claim is atomic against other processes.
    return this.db.handle
      .transaction(() => {
        const claimed: ClaimedJob[] = [];
        const skip = paused?.pluck().all();
        for (const queue of queues ?? [null]) {
          const want = limit - claimed.length;
          if (want <= 0) break;
          if (queue !== null && skip?.includes(queue)) continue;
          const rows = queue === null ? allQueues.all(owner, now, token, now, want) : oneQueue.all(owner, now, token, queue, now, want);
          // RETURNING has no defined order: restore the claim order.
          rows.sort((a, b) => a.scheduled_at - b.scheduled_at || a.id - b.id);
          for (const r of rows) claimed.push(toClaimed(r));
        }
        return claimed;
      })
      .immediate();
  }

  async claimByIds(params: { owner: string; queues: string[] | null; ids: JobId[] }): Promise<ClaimedJob[]> {
    const { owner, queues, ids } = params;
    if (ids.length === 0 || queues?.length === 0) return [];
    const now = Date.now();
    const inList = (n: number) => Array.from({ length: n }, () => '?').join(', ');
    const rows = this.db
      .stmt<unknown[], JobRow>(
        `UPDATE jobs SET status = 'processing', attempts = attempts + 1, owner = ?, claimed_at = ?, claim_token = ?
          WHERE id IN (${inList(ids.length)}) AND status = 'new' AND scheduled_at <= ?${queues ? ` AND queue IN (${inList(queues.length)})` : ''}
            AND queue NOT IN (SELECT queue FROM jobs_paused)
          RETURNING *`,
      )
      .all(owner, now, newClaimToken(), ...ids, now, ...(queues ?? []));
    // One statement: atomic under SQLite's write lock. RETURNING has no defined order.
    rows.sort((a, b) => a.scheduled_at - b.scheduled_at || a.id - b.id);
    return rows.map(toClaimed);
  }

  async record(params: { owner: string; results: JobResult[]; keepCompleted?: boolean }): Promise<RecordReport> {
    const { owner, results } = params;
    if (results.length === 0) return { stale: [] };
    const now = Date.now();
    const keep = params.keepCompleted === true;
    // Each applies only to its claim: owner, status and fencing token must match.
    const held = "owner = ? AND status = 'processing' AND claim_token = ?";
    const complete = this.db.stmt(
      keep ? `UPDATE jobs SET status = 'completed', owner = NULL, completed_at = ? WHERE id = ? AND ${held}` : `DELETE FROM jobs WHERE id = ? AND ${held}`,
    );
    const retry = this.db.stmt(`UPDATE jobs SET status = 'new', owner = NULL, claimed_at = NULL, exception = ?, scheduled_at = ? WHERE id = ? AND ${held}`);
    const fail = this.db.stmt(`UPDATE jobs SET status = 'failed', owner = NULL, claimed_at = NULL, exception = ?, failed_at = ? WHERE id = ? AND ${held}`);
    const count = this.db.stmt(
      `INSERT INTO jobs_stats (minute, queue, completed, failed) VALUES (?, ?, ?, ?)
        ON CONFLICT (minute, queue) DO UPDATE SET completed = completed + excluded.completed, failed = failed + excluded.failed`,
    );
    return this.db.handle
      .transaction(() => {
        const stale: JobRef[] = [];
        // Throughput counters from each statement's changes: only claims this owner still held count.
        const finished = new Map<string, { completed: number; failed: number }>();
        const tally = (queue: string, outcome: 'completed' | 'failed') => {
          const c = finished.get(queue) ?? { completed: 0, failed: 0 };
          c[outcome]++;
          finished.set(queue, c);
        };
        for (const r of results) {
          const claim = [r.id, owner, r.token] as const;
          let applied: boolean;
          if (r.outcome === 'completed') applied = (keep ? complete.run(now, ...claim) : complete.run(...claim)).changes > 0;
          else if (r.outcome === 'retry') applied = retry.run(r.error, now + r.delayMs, ...claim).changes > 0;
          else applied = fail.run(r.error, now, ...claim).changes > 0;
          if (!applied) stale.push({ id: r.id, token: r.token });
          else if (r.outcome !== 'retry') tally(r.queue, r.outcome);
        }
        const minute = Math.floor(now / 60_000);
        for (const [queue, c] of finished) count.run(minute, queue, c.completed, c.failed);
        return { stale };
      })
      .immediate();
  }

  async release(params: { owner: string; jobs: JobRef[] }): Promise<number> {
    const stmt = this.db.stmt(
      `UPDATE jobs SET status = 'new', owner = NULL, claimed_at = NULL, attempts = MAX(attempts - 1, 0)
        WHERE id = ? AND owner = ? AND status = 'processing' AND claim_token = ?`,
    );
    return this.db.handle.transaction(() => params.jobs.reduce((n, r) => n + stmt.run(r.id, params.owner, r.token).changes, 0)).immediate();
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
    priority: 0,
    retryPolicy: null,
  };
}
