import type { ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import { chunkResults } from '../chunk-jobs.js';
import type { ClaimedJob, JobId, JobResult, Queue } from '../store.js';
import { selectDueArgs, selectDueSql } from './claim-sql.js';
import type { MySqlDatabase } from './database.js';
import { countFinishedSql, statsSlot } from './stats-sql.js';

// Bytes of error text per results write: far below max_allowed_packet (16 MB by default; 1 MB on old servers).
const RECORD_BYTES = 512 * 1024;

/** The claim loop's path: SELECT … FOR UPDATE SKIP LOCKED then UPDATE by id; results in one multi-statement write. */
export class MySqlQueue implements Queue {
  constructor(private readonly db: MySqlDatabase) {}

  async claim(params: { owner: string; queues: string[] | null; limit: number }): Promise<ClaimedJob[]> {
    const { owner, queues, limit } = params;
    if (limit <= 0) return [];
    return this.db.run(async (conn) => {
      // Two round trips for the common case: BEGIN with the first SELECT, the UPDATE with COMMIT.
      let begun = false;
      try {
        const rows: RowDataPacket[] = [];
        for (const queue of queues ?? [null]) {
          const want = limit - rows.length;
          if (want <= 0) break;
          const sql = selectDueSql(this.db.table, queue !== null);
          const args = selectDueArgs(queue, want);
          if (begun) rows.push(...(await conn.query<RowDataPacket[]>(sql, args))[0]);
          else {
            begun = true; // set first: if the SELECT fails after BEGIN ran, the catch rolls back
            const [results] = await conn.query<RowDataPacket[][]>(`START TRANSACTION; ${sql}`, args);
            rows.push(...results[1]!);
          }
        }
        if (rows.length === 0) {
          await conn.query('COMMIT');
          return [];
        }
        await conn.query(
          `UPDATE ${this.db.table} SET status = 'processing', attempts = attempts + 1, owner = ?, claimed_at = UTC_TIMESTAMP(3) WHERE id IN (?); COMMIT`,
          [owner, rows.map((r) => r.id)],
        );
        return rows.map(toClaimed);
      } catch (e) {
        if (begun) await conn.query('ROLLBACK').catch(() => undefined);
        throw e;
      }
    });
  }

  async record(params: { owner: string; results: JobResult[]; keepCompleted?: boolean }): Promise<void> {
    const { owner, results } = params;
    if (results.length === 0) return;
    // A batch of long error texts could pass max_allowed_packet in one statement: written in
    // parts of about RECORD_BYTES (each result applies on its own, so parts need no common transaction).
    for (const part of chunkResults(results, RECORD_BYTES)) await this.recordPart(owner, part, params.keepCompleted === true);
  }

  /** Every result in one round trip: the statements go as one multi-statement query, inside a
   * transaction when there is more than one. Each applies only while `owner` holds the job. */
  private async recordPart(owner: string, results: JobResult[], keepCompleted: boolean): Promise<void> {
    const parts: string[] = [];
    const args: unknown[] = [];
    // Each statement that finishes jobs is followed by its throughput counter, taken from
    // ROW_COUNT(): only rows this owner still held count, and no row is read a second time.
    const count = (queue: string, column: 'completed' | 'failed') => {
      parts.push(countFinishedSql(this.db.table, column));
      args.push(queue, statsSlot(owner));
    };
    for (const [queue, ids] of completedByQueue(results)) {
      parts.push(
        keepCompleted
          ? `UPDATE ${this.db.table} SET status = 'completed', owner = NULL, completed_at = UTC_TIMESTAMP(3) WHERE id IN (?) AND owner = ? AND status = 'processing'`
          : `DELETE FROM ${this.db.table} WHERE id IN (?) AND owner = ? AND status = 'processing'`,
      );
      args.push(ids, owner);
      count(queue, 'completed');
    }
    for (const r of results) {
      if (r.outcome === 'retry') {
        parts.push(
          `UPDATE ${this.db.table} SET status = 'new', owner = NULL, claimed_at = NULL, exception = ?,
             scheduled_at = UTC_TIMESTAMP(3) + INTERVAL ? MICROSECOND
           WHERE id = ? AND owner = ? AND status = 'processing'`,
        );
        args.push(r.error, r.delayMs * 1000, r.id, owner);
      } else if (r.outcome === 'failed') {
        parts.push(
          `UPDATE ${this.db.table} SET status = 'failed', owner = NULL, claimed_at = NULL, exception = ?, failed_at = UTC_TIMESTAMP(3)
           WHERE id = ? AND owner = ? AND status = 'processing'`,
        );
        args.push(r.error, r.id, owner);
        count(r.queue, 'failed');
      }
    }
    const txn = parts.length > 1;
    await this.db.run(async (conn) => {
      try {
        await conn.query(txn ? `START TRANSACTION; ${parts.join('; ')}; COMMIT` : parts[0]!, args);
      } catch (e) {
        if (txn) await conn.query('ROLLBACK').catch(() => undefined);
        throw e;
      }
    });
  }

  async release(params: { owner: string; ids: JobId[] }): Promise<number> {
    if (params.ids.length === 0) return 0;
    return this.db.run(async (conn) => {
      const [res] = await conn.query<ResultSetHeader>(
        `UPDATE ${this.db.table} SET status = 'new', owner = NULL, claimed_at = NULL, attempts = GREATEST(attempts - 1, 0)
          WHERE id IN (?) AND owner = ? AND status = 'processing'`,
        [params.ids, params.owner],
      );
      return res.affectedRows;
    });
  }

  async releaseUnheld(params: { owner: string; heldIds: JobId[] }): Promise<number> {
    return this.db.run(async (conn) => {
      const [res] = await conn.query<ResultSetHeader>(
        `UPDATE ${this.db.table} SET status = 'new', owner = NULL, claimed_at = NULL, attempts = GREATEST(attempts - 1, 0)
          WHERE owner = ? AND status = 'processing' AND id NOT IN (?)`,
        [params.owner, params.heldIds.length ? params.heldIds : [0]], // ids start at 1: [0] keeps the SQL valid
      );
      return res.affectedRows;
    });
  }
}

/** Completed jobs' ids per queue (usually one queue per batch). */
function completedByQueue(results: JobResult[]): Map<string, JobId[]> {
  const byQueue = new Map<string, JobId[]>();
  for (const r of results) {
    if (r.outcome !== 'completed') continue;
    const ids = byQueue.get(r.queue);
    if (ids) ids.push(r.id);
    else byQueue.set(r.queue, [r.id]);
  }
  return byQueue;
}

function toClaimed(r: RowDataPacket): ClaimedJob {
  return {
    id: Number(r.id),
    handler: r.handler,
    queue: r.queue,
    payload: r.payload,
    attempts: Number(r.attempts) + 1,
    maxAttempts: Number(r.max_attempts),
    retryAfterMs: Number(r.retry_after_ms),
    timeoutMs: r.timeout_ms === null ? null : Number(r.timeout_ms),
    scheduledAtMs: (r.scheduled_at as Date).getTime(),
  };
}
