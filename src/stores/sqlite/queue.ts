import type { ClaimedJob, JobId, JobResult, Queue } from '../store.js';
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
      `UPDATE jobs SET status = 'processing', attempts = attempts + 1, owner = ?, claimed_at = ?
        WHERE id IN (SELECT id FROM jobs INDEXED BY jobs_claim WHERE status = 'new' AND scheduled_at <= ?
                       AND queue NOT IN (SELECT queue FROM jobs_paused)
                     ORDER BY scheduled_at, id LIMIT ?)
        RETURNING *`,
    );
    const oneQueue = this.db.stmt<unknown[], JobRow>(
      `UPDATE jobs SET status = 'processing', attempts = attempts + 1, owner = ?, claimed_at = ?
        WHERE id IN (SELECT id FROM jobs INDEXED BY jobs_claim_queue WHERE queue = ? AND status = 'new' AND scheduled_at <= ?
                     ORDER BY scheduled_at, id LIMIT ?)
        RETURNING *`,
    );
    // Paused queues (jobs_paused) are never claimed: a named queue that is paused is skipped
    // before its rows are read (SQLite would test a NOT EXISTS on every due row of it); across
    // all queues the NOT IN reads the paused list once and due rows of paused queues are read past.
    const paused = queues === null ? null : this.db.stmt<[], string>('SELECT queue FROM jobs_paused');
    // IMMEDIATE takes the write lock up front: the claim is atomic against other processes.
    return this.db.handle
      .transaction(() => {
        const claimed: ClaimedJob[] = [];
        const skip = paused?.pluck().all();
        for (const queue of queues ?? [null]) {
          const want = limit - claimed.length;
          if (want <= 0) break;
          if (queue !== null && skip?.includes(queue)) continue;
          const rows = queue === null ? allQueues.all(owner, now, now, want) : oneQueue.all(owner, now, queue, now, want);
          // RETURNING has no defined order: restore the claim order.
          rows.sort((a, b) => a.scheduled_at - b.scheduled_at || a.id - b.id);
          for (const r of rows) claimed.push(toClaimed(r));
        }
        return claimed;
      })
      .immediate();
  }

  async record(params: { owner: string; results: JobResult[]; keepCompleted?: boolean }): Promise<void> {
    const { owner, results } = params;
    if (results.length === 0) return;
    const now = Date.now();
    const keep = params.keepCompleted === true;
    const complete = this.db.stmt(
      keep
        ? `UPDATE jobs SET status = 'completed', owner = NULL, completed_at = ? WHERE id = ? AND owner = ? AND status = 'processing'`
        : `DELETE FROM jobs WHERE id = ? AND owner = ? AND status = 'processing'`,
    );
    const retry = this.db.stmt(
      `UPDATE jobs SET status = 'new', owner = NULL, claimed_at = NULL, exception = ?, scheduled_at = ?
        WHERE id = ? AND owner = ? AND status = 'processing'`,
    );
    const fail = this.db.stmt(
      `UPDATE jobs SET status = 'failed', owner = NULL, claimed_at = NULL, exception = ?, failed_at = ?
        WHERE id = ? AND owner = ? AND status = 'processing'`,
    );
    const count = this.db.stmt(
      `INSERT INTO jobs_stats (minute, queue, completed, failed) VALUES (?, ?, ?, ?)
        ON CONFLICT (minute, queue) DO UPDATE SET completed = completed + excluded.completed, failed = failed + excluded.failed`,
    );
    this.db.handle
      .transaction(() => {
        // Throughput counters from each statement's changes: only rows this owner still held count.
        const finished = new Map<string, { completed: number; failed: number }>();
        const tally = (queue: string, outcome: 'completed' | 'failed', changes: number) => {
          if (changes === 0) return;
          const c = finished.get(queue) ?? { completed: 0, failed: 0 };
          c[outcome] += changes;
          finished.set(queue, c);
        };
        for (const r of results) {
          if (r.outcome === 'completed') tally(r.queue, 'completed', (keep ? complete.run(now, r.id, owner) : complete.run(r.id, owner)).changes);
          else if (r.outcome === 'retry') retry.run(r.error, now + r.delayMs, r.id, owner);
          else tally(r.queue, 'failed', fail.run(r.error, now, r.id, owner).changes);
        }
        const minute = Math.floor(now / 60_000);
        for (const [queue, c] of finished) count.run(minute, queue, c.completed, c.failed);
      })
      .immediate();
  }

  async release(params: { owner: string; ids: JobId[] }): Promise<number> {
    const stmt = this.db.stmt(
      `UPDATE jobs SET status = 'new', owner = NULL, claimed_at = NULL, attempts = MAX(attempts - 1, 0)
        WHERE id = ? AND owner = ? AND status = 'processing'`,
    );
    return this.db.handle.transaction(() => params.ids.reduce((n, id) => n + stmt.run(id, params.owner).changes, 0)).immediate();
  }

  async releaseUnheld(params: { owner: string; heldIds: JobId[] }): Promise<number> {
    return this.db
      .stmt(
        `UPDATE jobs SET status = 'new', owner = NULL, claimed_at = NULL, attempts = MAX(attempts - 1, 0)
        WHERE owner = ? AND status = 'processing' AND id NOT IN (SELECT value FROM json_each(?))`,
      )
      .run(params.owner, JSON.stringify(params.heldIds)).changes;
  }
}

function toClaimed(r: JobRow): ClaimedJob {
  return {
    id: r.id,
    handler: r.handler,
    queue: r.queue,
    payload: r.payload,
    attempts: r.attempts,
    maxAttempts: r.max_attempts,
    retryAfterMs: r.retry_after_ms,
    timeoutMs: r.timeout_ms,
    scheduledAtMs: r.scheduled_at,
  };
}
