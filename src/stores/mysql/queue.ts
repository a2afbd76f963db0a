import type { ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import { chunkResults } from '../chunk-jobs.js';
import { groupBy, newClaimToken, refKey, refsNotIn } from '../claim-token.js';
import type { ClaimedJob, JobId, JobRef, JobResult, Queue, RecordReport } from '../store.js';
import { claimIdsSql, selectDueArgs, selectDueSql } from './claim-sql.js';
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
        const token = newClaimToken();
        await conn.query(
          `UPDATE ${this.db.table} SET status = 'processing', attempts = attempts + 1, owner = ?, claimed_at = UTC_TIMESTAMP(3), claim_token = ?
            WHERE id IN (?); COMMIT`,
          [owner, token, rows.map((r) => r.id)],
        );
        return rows.map((r) => toClaimed(r, token, false));
      } catch (e) {
        if (begun) await conn.query('ROLLBACK').catch(() => undefined);
        throw e;
      }
    });
  }

  async claimByIds(params: { owner: string; queues: string[] | null; ids: JobId[] }): Promise<ClaimedJob[]> {
    const { owner, queues, ids } = params;
    if (ids.length === 0 || queues?.length === 0) return [];
    const token = newClaimToken();
    const args: unknown[] = [owner, token, ids, ...(queues ? [queues] : []), ids, token];
    const [sets] = await this.db.run((conn) => conn.query<RowDataPacket[][]>(claimIdsSql(this.db.table, queues !== null), args));
    return sets[1]!.map((r) => toClaimed(r, token, true));
  }

  async record(params: { owner: string; results: JobResult[]; keepCompleted?: boolean }): Promise<RecordReport> {
    const { owner, results } = params;
    const stale: JobRef[] = [];
    // A batch of long error texts could pass max_allowed_packet in one statement: written in
    // parts of about RECORD_BYTES (each result applies on its own, so parts need no common transaction).
    for (const part of chunkResults(results, RECORD_BYTES)) stale.push(...(await this.recordPart(owner, part, params.keepCompleted === true)));
    return { stale };
  }

  /**
   * Every result in one round trip, one transaction: first the claims still held are locked and
   * read (id and token), then each statement applies only to its claim (owner, status and token
   * match), so what applied is exactly what that read found. Returns the results that did not.
   */
  private async recordPart(owner: string, results: JobResult[], keepCompleted: boolean): Promise<JobRef[]> {
    const t = this.db.table;
    const parts: string[] = [`SELECT id, claim_token FROM ${t} WHERE id IN (?) AND owner = ? AND status = 'processing' FOR UPDATE`];
    const args: unknown[] = [results.map((r) => r.id), owner];
    const held = "owner = ? AND status = 'processing' AND claim_token = ?";
    // Each statement that finishes jobs is followed by its throughput counter, taken from
    // ROW_COUNT(): only claims this owner still held count, and no row is read a second time.
    const count = (queue: string, column: 'completed' | 'failed') => {
      parts.push(countFinishedSql(t, column));
      args.push(queue, statsSlot(owner));
    };
    const completed = groupBy(
      results.filter((r) => r.outcome === 'completed'),
      (r) => `${r.queue}\n${r.token}`,
    );
    for (const group of completed.values()) {
      parts.push(
        keepCompleted
          ? `UPDATE ${t} SET status = 'completed', owner = NULL, completed_at = UTC_TIMESTAMP(3) WHERE id IN (?) AND ${held}`
          : `DELETE FROM ${t} WHERE id IN (?) AND ${held}`,
      );
      args.push(
        group.map((r) => r.id),
        owner,
        group[0]!.token,
      );
      count(group[0]!.queue, 'completed');
    }
    for (const r of results) {
      if (r.outcome === 'retry') {
        parts.push(
          `UPDATE ${t} SET status = 'new', owner = NULL, claimed_at = NULL, exception = ?, scheduled_at = UTC_TIMESTAMP(3) + INTERVAL ? MICROSECOND
           WHERE id = ? AND ${held}`,
        );
        args.push(r.error, r.delayMs * 1000, r.id, owner, r.token);
      } else if (r.outcome === 'failed') {
        parts.push(`UPDATE ${t} SET status = 'failed', owner = NULL, claimed_at = NULL, exception = ?, failed_at = UTC_TIMESTAMP(3) WHERE id = ? AND ${held}`);
        args.push(r.error, r.id, owner, r.token);
        count(r.queue, 'failed');
      }
    }
    const rows = await this.db.run(async (conn) => {
      try {
        const [sets] = await conn.query<RowDataPacket[][]>(`START TRANSACTION; ${parts.join('; ')}; COMMIT`, args);
        return sets[1]!;
      } catch (e) {
        await conn.query('ROLLBACK').catch(() => undefined);
        throw e;
      }
    });
    const stillHeld = new Set(rows.map((row) => `${Number(row.id)}:${row.claim_token}`));
    return results.filter((r) => !stillHeld.has(refKey(r))).map(({ id, token }) => ({ id, token }));
  }

  async release(params: { owner: string; jobs: JobRef[] }): Promise<number> {
    if (params.jobs.length === 0) return 0;
    return this.db.run(async (conn) => {
      let released = 0;
      for (const group of groupBy(params.jobs, (r) => r.token).values()) {
        const [res] = await conn.query<ResultSetHeader>(
          `UPDATE ${this.db.table} SET status = 'new', owner = NULL, claimed_at = NULL, attempts = GREATEST(attempts - 1, 0)
            WHERE id IN (?) AND owner = ? AND status = 'processing' AND claim_token = ?`,
          [group.map((r) => r.id), params.owner, group[0]!.token],
        );
        released += res.affectedRows;
      }
      return released;
    });
  }

  async releaseUnheld(params: { owner: string; held: JobRef[] }): Promise<number> {
    // Rare (after a claim whose reply was lost): reads the owner's claims, gives back the others.
    const [rows] = await this.db.run((conn) =>
      conn.query<RowDataPacket[]>(`SELECT id, claim_token FROM ${this.db.table} WHERE status = 'processing' AND owner = ?`, [params.owner]),
    );
    // The release re-checks owner, status and token: a claim that finished meanwhile is left alone.
    const others = refsNotIn(
      rows.map((r) => ({ id: Number(r.id), token: String(r.claim_token) })),
      params.held,
    );
    return this.release({ owner: params.owner, jobs: others });
  }
}

/** `charged`: the row was read after the claim's UPDATE, its attempts already counting this one. */
function toClaimed(r: RowDataPacket, token: string, charged: boolean): ClaimedJob {
  return {
    id: Number(r.id),
    token,
    handler: r.handler,
    queue: r.queue,
    payload: r.payload,
    attempts: Number(r.attempts) + (charged ? 0 : 1),
    maxAttempts: Number(r.max_attempts),
    retryAfterMs: Number(r.retry_after_ms),
    timeoutMs: r.timeout_ms === null ? null : Number(r.timeout_ms),
    scheduledAtMs: (r.scheduled_at as Date).getTime(),
    priority: 0,
    retryPolicy: null,
  };
}
