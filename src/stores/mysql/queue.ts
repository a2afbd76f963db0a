import type { ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import { chunkResults } from '../chunk-jobs.js';
import { groupBy, newClaimToken, refKey, refsNotIn } from '../claim-token.js';
import type { ClaimedJob, JobId, JobRef, JobResult, Queue, RecordReport } from '../store.js';
import { MySqlClaim, isKeyedToken, toClaimed } from './claim.js';
import { claimIdsSql } from './claim-sql.js';
import { ownRowsArgs } from './foreign-rows.js';
import { recordEventsSql } from './outcomes.js';
import type { MySqlDatabase } from './database.js';
import { countFinishedSql, statsSlot } from './stats-sql.js';
import { keyLimits, unblockKeys } from './unblock.js';

// Bytes of error text per results write: far below max_allowed_packet (16 MB by default; 1 MB on old servers).
const RECORD_BYTES = 512 * 1024;

/** The claim loop's path: SELECT … FOR UPDATE SKIP LOCKED then UPDATE by id; results in one multi-statement write. */
export class MySqlQueue implements Queue {
  /** Per queue ('' = all), the lowest due priority its last claim found: the next claim reads it first. */
  private readonly firstPriorities = new Map<string, number>();

  constructor(private readonly db: MySqlDatabase) {}

  async claim(params: { owner: string; queues: string[] | null; limit: number }): Promise<ClaimedJob[]> {
    const { owner, queues, limit } = params;
    if (limit <= 0 || queues?.length === 0) return [];
    return this.db.run(async (conn) => {
      const claim = new MySqlClaim(conn, this.db.table, owner, queues, limit, this.firstPriorities, this.db.foreign);
      try {
        return await claim.run();
      } catch (e) {
        if (claim.inTransaction) await conn.query('ROLLBACK').catch(() => undefined);
        throw e;
      }
    });
  }

  async claimByIds(params: { owner: string; queues: string[] | null; ids: JobId[] }): Promise<ClaimedJob[]> {
    const { owner, queues, ids } = params;
    if (ids.length === 0 || queues?.length === 0) return [];
    const token = newClaimToken();
    const args: unknown[] = [owner, token, ids, ...(queues ? [queues] : []), ...ownRowsArgs(this.db.foreign), ids, token];
    const [sets] = await this.db.run((conn) => conn.query<RowDataPacket[][]>(claimIdsSql(this.db.table, queues !== null, this.db.foreign), args));
    return sets[1]!.map((r) => toClaimed(r, token, true));
  }

  async record(params: { owner: string; results: JobResult[]; keepCompleted?: boolean; keepOutcomes?: boolean }): Promise<RecordReport> {
    const { owner, results } = params;
    const stale: JobRef[] = [];
    // A batch of long error texts could pass max_allowed_packet in one statement: written in
    // parts of about RECORD_BYTES (each result applies on its own, so parts need no common transaction).
    for (const part of chunkResults(results, RECORD_BYTES)) {
      stale.push(...(await this.recordPart(owner, part, params.keepCompleted === true, params.keepOutcomes === true)));
    }
    return { stale };
  }

  /**
   * Every result in one round trip, one transaction: first the claims still held are locked and
   * read (id and token), then each statement applies only to its claim (owner, status and token
   * match), so what applied is exactly what that read found. Returns the results that did not.
   */
  private async recordPart(owner: string, results: JobResult[], keepCompleted: boolean, keepOutcomes: boolean): Promise<JobRef[]> {
    const t = this.db.table;
    const parts: string[] = [
      `SELECT id, claim_token, concurrency_key, concurrency_limit FROM ${t} WHERE id IN (?) AND owner = ? AND status = 'processing' FOR UPDATE`,
    ];
    const args: unknown[] = [results.map((r) => r.id), owner];
    const held = "owner = ? AND status = 'processing' AND claim_token = ?";
    // Outcome events: one statement more, in this transaction, before the rows change (outcomes.ts).
    if (keepOutcomes) {
      const events = recordEventsSql(t, owner, results);
      parts.push(events.sql);
      args.push(...events.args);
    }
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
          ? `UPDATE ${t} SET status = 'completed', owner = NULL, completed_at = UTC_TIMESTAMP(3), unique_key = NULL WHERE id IN (?) AND ${held}`
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
          `UPDATE ${t} SET status = 'new', owner = NULL, claimed_at = NULL, exception = ?, scheduled_at = UTC_TIMESTAMP(3) + INTERVAL ? MICROSECOND,
             max_attempts = COALESCE(?, max_attempts)
           WHERE id = ? AND ${held}`,
        );
        args.push(r.error, r.delayMs * 1000, r.maxAttempts ?? null, r.id, owner, r.token);
      } else if (r.outcome === 'failed') {
        parts.push(
          `UPDATE ${t} SET status = 'failed', owner = NULL, claimed_at = NULL, exception = ?, failed_at = UTC_TIMESTAMP(3), unique_key = NULL,
             max_attempts = COALESCE(?, max_attempts) WHERE id = ? AND ${held}`,
        );
        args.push(r.error, r.maxAttempts ?? null, r.id, owner, r.token);
        count(r.queue, 'failed');
      }
    }
    // Claims that took jobs with a concurrency key (their token says so) free slots before the
    // COMMIT; the others keep to one round trip.
    const keyed = results.some((r) => isKeyedToken(r.token));
    const rows = await this.db.run(async (conn) => {
      try {
        const [sets] = await conn.query<RowDataPacket[][]>(`START TRANSACTION; ${parts.join('; ')}${keyed ? '' : '; COMMIT'}`, args);
        if (keyed) await unblockKeys(conn, t, keyLimits(stillHeldRows(sets[1]!, results)), 'COMMIT');
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
    const t = this.db.table;
    return this.db.run(async (conn) => {
      let released = 0;
      for (const group of groupBy(params.jobs, (r) => r.token).values()) {
        const args = [group.map((r) => r.id), params.owner, group[0]!.token];
        const where = "id IN (?) AND owner = ? AND status = 'processing' AND claim_token = ?";
        const giveBack = `UPDATE ${t} SET status = 'new', owner = NULL, claimed_at = NULL, attempts = GREATEST(attempts - 1, 0) WHERE ${where}`;
        if (!isKeyedToken(group[0]!.token)) {
          released += (await conn.query<ResultSetHeader>(giveBack, args))[0].affectedRows;
          continue;
        }
        // Slots of the claim are freed in the same transaction as the give-back.
        try {
          const [sets] = await conn.query<RowDataPacket[][]>(
            `START TRANSACTION; SELECT concurrency_key, concurrency_limit FROM ${t} WHERE ${where} FOR UPDATE; ${giveBack}`,
            [...args, ...args],
          );
          await unblockKeys(conn, t, keyLimits(sets[1]!), 'COMMIT');
          released += (sets[2] as unknown as ResultSetHeader).affectedRows;
        } catch (e) {
          await conn.query('ROLLBACK').catch(() => undefined);
          throw e;
        }
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

/** The locked rows of claims still held: the ones whose results apply. */
function stillHeldRows(rows: RowDataPacket[], results: JobResult[]): RowDataPacket[] {
  const wanted = new Set(results.map(refKey));
  return rows.filter((row) => wanted.has(`${Number(row.id)}:${row.claim_token}`));
}
