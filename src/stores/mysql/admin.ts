import type { Connection, ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import {
  OPS_BATCH,
  THROUGHPUT_KEEP_MS,
  type Admin,
  type FailedPage,
  type FailedSelection,
  type ForeignHandlerQueue,
  type JobId,
  type JobListPage,
  type JobListSelection,
  type JobRecord,
  type MigrationReport,
  type PausedQueue,
  type PruneReport,
  type QueueCounts,
  type QueueThroughput,
  type ScheduleRecord,
  type TimeShiftReport,
  type ThroughputMinute,
} from '../store.js';
import { listJobsMysql } from './list-jobs.js';
import { toRecord } from './rows.js';
import { throughputByMinuteMysql } from './throughput.js';
import type { MySqlDatabase } from './database.js';
import { createMysqlDatabase } from './create-database.js';
import { IdleLimitKeys } from './prune-limits.js';
import { planMigration } from './schema.js';
import { MySqlSchedules } from './schedules.js';
import { ownRowsArgs, ownRowsSql } from './foreign-rows.js';
import { foreignHandlerQueues, queueCaseNotices, queuedRows, shiftWaitingTimes } from './lightpack-admin.js';
import { InvalidInputError } from '../../errors.js';
import { assertTimeZone } from '../../values/time-zone.js';

// Operators' role, MySQL dialect: the schema, counts, failed jobs, paused queues, throughput
// counters and pruning. Bulk changes go in batches of OPS_BATCH rows, each its own short
// statement, so a claim never waits long behind one. Times are the database's (UTC sessions).

export class MySqlAdmin implements Admin {
  private readonly schedules: MySqlSchedules;
  private readonly idleLimitKeys: IdleLimitKeys;

  constructor(private readonly db: MySqlDatabase) {
    this.schedules = new MySqlSchedules(db);
    this.idleLimitKeys = new IdleLimitKeys(db.table);
  }

  listSchedules(_params: Record<string, never> = {}): Promise<ScheduleRecord[]> {
    return this.schedules.list();
  }

  removeUndeclaredSchedule(params: { key: string }): Promise<{ removed: boolean; declaredBy: string[] }> {
    return this.schedules.removeUndeclared(params.key);
  }

  async migrate(params: { dryRun?: boolean; requeueLegacyClaimed?: boolean; requeueQueues?: string[]; createDatabase?: boolean }): Promise<MigrationReport> {
    if (params.requeueLegacyClaimed && !params.requeueQueues?.length) {
      throw new InvalidInputError(
        "--requeue-queued needs --queue <names>: rows in status 'queued' may be running in a PHP worker right now, and would run twice; " +
          'name the queues no PHP worker runs any more',
      );
    }
    // First, on a connection that names no database: the pool's connections need it to exist.
    const createdDatabase = params.createDatabase && !params.dryRun ? await createMysqlDatabase(this.db.url) : undefined;
    return this.db.run(
      async (conn) => {
        const statements = await planMigration(conn, this.db.table);
        if (!params.dryRun) for (const sql of statements) await conn.query(sql);
        const requeue = params.requeueLegacyClaimed && !params.dryRun ? params.requeueQueues! : null;
        const notices = [...(await queuedRows(conn, this.db.table, this.db.foreign, requeue)), ...(await queueCaseNotices(conn, this.db.table, statements))];
        return { statements, ...(notices.length ? { notices } : {}), ...(createdDatabase !== undefined ? { createdDatabase } : {}) };
      },
      { deadlineMs: null }, // an ALTER TABLE of a big table takes as long as it takes
    );
  }

  async foreignHandlerQueues(): Promise<ForeignHandlerQueue[]> {
    return this.db.run((conn) => foreignHandlerQueues(conn, this.db.table), { deadlineMs: null });
  }

  async shiftWaitingTimes(params: { fromZone: string; dryRun: boolean }): Promise<TimeShiftReport> {
    assertTimeZone(params.fromZone);
    return this.db.run((conn) => shiftWaitingTimes(conn, this.db.table, this.db.foreign, params.fromZone, params.dryRun), { deadlineMs: null });
  }

  async counts(params: { queues?: string[] }): Promise<QueueCounts[]> {
    return this.db.run(async (conn) => {
      const filter = params.queues?.length ? 'WHERE queue IN (?)' : '';
      // Every column read is in jobs_claim_queue: an index-only scan, rate_deferred included.
      const [rows] = await conn.query<RowDataPacket[]>(
        `SELECT queue,
                SUM(status = 'new' AND scheduled_at <= UTC_TIMESTAMP(3)) AS n_due,
                SUM(status = 'new' AND scheduled_at > UTC_TIMESTAMP(3)) AS n_delayed,
                SUM(status = 'processing') AS n_processing,
                SUM(status = 'failed') AS n_failed,
                SUM(status = 'blocked') AS n_blocked,
                SUM(status = 'new' AND scheduled_at > UTC_TIMESTAMP(3) AND rate_deferred = 1) AS n_rate_deferred,
                SUM(status = 'queued') AS n_php_running
           FROM ${this.db.table} FORCE INDEX (jobs_claim_queue) ${filter} GROUP BY queue ORDER BY queue`,
        params.queues?.length ? [params.queues] : [],
      );
      return rows.map((r) => ({
        queue: String(r.queue),
        // Blocked jobs are due, waiting for a slot: counted as waiting, and apart.
        waiting: Number(r.n_due) + Number(r.n_blocked),
        delayed: Number(r.n_delayed),
        processing: Number(r.n_processing),
        failed: Number(r.n_failed),
        // Present when non-zero: counts of queues without limits read as before.
        ...(Number(r.n_blocked) > 0 ? { concurrencyLimited: Number(r.n_blocked) } : {}),
        ...(Number(r.n_rate_deferred) > 0 ? { rateLimited: Number(r.n_rate_deferred) } : {}),
        // Lightpack's workers mark the row they run 'queued'.
        ...(Number(r.n_php_running) > 0 ? { heldElsewhere: Number(r.n_php_running) } : {}),
      }));
    });
  }

  async getJob(params: { id: JobId }): Promise<JobRecord | null> {
    return this.db.run(async (conn) => {
      const [rows] = await conn.query<RowDataPacket[]>(`SELECT * FROM ${this.db.table} WHERE id = ?`, [params.id]);
      return rows[0] ? toRecord(rows[0]) : null;
    });
  }

  async listFailed(params: FailedSelection & { limit: number }): Promise<FailedPage> {
    return this.db.run(async (conn) => {
      const table = this.db.table;
      const w = failedWhere(params);
      if (!w) return { jobs: [], total: 0 };
      const [rows] = await conn.query<RowDataPacket[]>(`SELECT * FROM ${table} WHERE ${w.where} ORDER BY failed_at DESC, id DESC LIMIT ?`, [
        ...w.args,
        params.limit,
      ]);
      const [[count]] = await conn.query<RowDataPacket[]>(`SELECT COUNT(*) AS n FROM ${table} WHERE ${w.where}`, w.args);
      return { jobs: rows.map(toRecord), total: Number(count?.n ?? 0) };
    });
  }
  async retryFailed(sel: FailedSelection): Promise<number> {
    return this.db.run(async (conn) => {
      const table = this.db.table;
      return eachFailedBatch(conn, table, sel, async (ids) => {
        const [res] = await conn.query<ResultSetHeader>(
          `UPDATE ${table} SET status = 'new', attempts = 0, interruptions = 0, failed_at = NULL, owner = NULL, claimed_at = NULL,
           scheduled_at = UTC_TIMESTAMP(3)
         WHERE id IN (?) AND status = 'failed'`,
          [ids],
        );
        return res.affectedRows;
      });
    });
  }
  async deleteFailed(sel: FailedSelection): Promise<number> {
    return this.db.run(async (conn) => {
      const table = this.db.table;
      return eachFailedBatch(conn, table, sel, async (ids) => {
        const [res] = await conn.query<ResultSetHeader>(`DELETE FROM ${table} WHERE id IN (?) AND status = 'failed'`, [ids]);
        return res.affectedRows;
      });
    });
  }
  async setQueuePaused(params: { queue: string; paused: boolean }): Promise<boolean> {
    return this.db.run(async (conn) => {
      const table = this.db.table;
      const [res] = params.paused
        ? await conn.query<ResultSetHeader>(`INSERT IGNORE INTO ${table}_paused (queue, paused_at) VALUES (?, UTC_TIMESTAMP(3))`, [params.queue])
        : await conn.query<ResultSetHeader>(`DELETE FROM ${table}_paused WHERE queue = ?`, [params.queue]);
      return res.affectedRows > 0;
    });
  }
  async listPausedQueues(): Promise<PausedQueue[]> {
    return this.db.run(async (conn) => {
      const table = this.db.table;
      const [rows] = await conn.query<RowDataPacket[]>(`SELECT queue, paused_at FROM ${table}_paused ORDER BY queue`);
      return rows.map((r) => ({ queue: String(r.queue), pausedAt: r.paused_at as Date }));
    });
  }
  async throughput(params: { sinceMs: number }): Promise<QueueThroughput[]> {
    return this.db.run(async (conn) => {
      const table = this.db.table;
      const [rows] = await conn.query<RowDataPacket[]>(
        `SELECT queue, SUM(completed) AS completed, SUM(failed) AS failed FROM ${table}_stats
        WHERE minute >= FLOOR((UNIX_TIMESTAMP(NOW(3)) * 1000 - ?) / 60000) GROUP BY queue ORDER BY queue`,
        [params.sinceMs],
      );
      return rows.map((r) => ({ queue: String(r.queue), completed: Number(r.completed), failed: Number(r.failed) }));
    });
  }
  throughputByMinute(params: { sinceMs: number; queue?: string }): Promise<ThroughputMinute[]> {
    return throughputByMinuteMysql(this.db, params);
  }
  listJobs(params: JobListSelection): Promise<JobListPage> {
    return listJobsMysql(this.db, params);
  }
  async prune(params: {
    completedOlderThanMs: number | null;
    failedOlderThanMs: number | null;
    outcomesOlderThanMs?: number | null;
    batchSize?: number;
  }): Promise<PruneReport> {
    return this.db.run(async (conn) => {
      const table = this.db.table;
      const batch = params.batchSize ?? OPS_BATCH;
      // Each DELETE reads the (status, scheduled_at, id) range of jobs_claim for its status, far
      // from the 'new' range claims lock, and stops after `batch` rows.
      const inBatches = async (sql: string, args: unknown[]): Promise<number> => {
        let total = 0;
        for (;;) {
          const [res] = await conn.query<ResultSetHeader>(sql, [...args, batch]);
          total += res.affectedRows;
          if (res.affectedRows < batch) return total;
        }
      };
      const report: PruneReport = { completed: 0, failed: 0 };
      if (params.completedOlderThanMs !== null) {
        // Rows completed before completed_at existed count from their claim.
        report.completed = await inBatches(
          `DELETE FROM ${table} WHERE status = 'completed' AND COALESCE(completed_at, claimed_at, scheduled_at) < UTC_TIMESTAMP(3) - INTERVAL ? MICROSECOND
          ORDER BY scheduled_at, id LIMIT ?`,
          [params.completedOlderThanMs * 1000],
        );
      }
      if (params.failedOlderThanMs !== null) {
        report.failed = await inBatches(
          // PHP's failed rows are PHP's to keep or delete (foreign-rows.ts).
          `DELETE FROM ${table} WHERE status = 'failed' AND failed_at < UTC_TIMESTAMP(3) - INTERVAL ? MICROSECOND${ownRowsSql(this.db.foreign)} ORDER BY scheduled_at, id LIMIT ?`,
          [params.failedOlderThanMs * 1000, ...ownRowsArgs(this.db.foreign)],
        );
      }
      if (params.outcomesOlderThanMs != null) {
        // By the `at` index, oldest first: the events followers read (the newest) are not touched.
        report.outcomes = await inBatches(`DELETE FROM ${table}_outcomes WHERE at < UTC_TIMESTAMP(3) - INTERVAL ? MICROSECOND ORDER BY at LIMIT ?`, [
          params.outcomesOlderThanMs * 1000,
        ]);
      }
      await inBatches(`DELETE FROM ${table}_stats WHERE minute < (UNIX_TIMESTAMP() DIV 60) - ? LIMIT ?`, [Math.ceil(THROUGHPUT_KEEP_MS / 60_000)]);
      // Rate windows that have ended (claims prune the keys they meet; this takes keys no longer used).
      await inBatches(`DELETE FROM ${table}_rates WHERE window_end < UNIX_TIMESTAMP(UTC_TIMESTAMP(3)) * 1000 LIMIT ?`, []);
      // Lock rows of concurrency keys that nothing waits on or runs under any more.
      await this.idleLimitKeys.prune(conn, batch);
      return report;
    });
  }
}

/** The WHERE of a failed-job selection; null when it can match nothing (an empty id list). */
function failedWhere(sel: FailedSelection): { where: string; args: unknown[] } | null {
  if (sel.ids && sel.ids.length === 0) return null;
  const parts = ["status = 'failed'"];
  const args: unknown[] = [];
  if (sel.ids) {
    parts.push('id IN (?)');
    args.push(sel.ids);
  }
  if (sel.queue !== undefined) {
    parts.push('queue = ?');
    args.push(sel.queue);
  }
  if (sel.handler !== undefined) {
    parts.push('handler = ?');
    args.push(sel.handler);
  }
  if (sel.olderThanMs !== undefined) {
    parts.push('failed_at < UTC_TIMESTAMP(3) - INTERVAL ? MICROSECOND');
    args.push(sel.olderThanMs * 1000);
  }
  return { where: parts.join(' AND '), args };
}

/** Runs `change` on the ids of matching failed rows, a batch at a time, until none is left. */
async function eachFailedBatch(conn: Connection, table: string, sel: FailedSelection, change: (ids: JobId[]) => Promise<number>): Promise<number> {
  let total = 0;
  if (sel.ids) {
    // Named ids: each batch is checked against the rest of the selection by the change itself.
    for (let i = 0; i < sel.ids.length; i += OPS_BATCH) {
      const w = failedWhere({ ...sel, ids: sel.ids.slice(i, i + OPS_BATCH) })!;
      const [rows] = await conn.query<RowDataPacket[]>(`SELECT id FROM ${table} WHERE ${w.where}`, w.args);
      if (rows.length > 0) total += await change(rows.map((r) => Number(r.id)));
    }
    return total;
  }
  const w = failedWhere(sel)!;
  // In id order from a cursor: a retried job that fails again meanwhile is not taken twice.
  for (let after = 0; ; ) {
    const [rows] = await conn.query<RowDataPacket[]>(`SELECT id FROM ${table} WHERE ${w.where} AND id > ? ORDER BY id LIMIT ?`, [...w.args, after, OPS_BATCH]);
    if (rows.length === 0) return total;
    const ids = rows.map((r) => Number(r.id));
    total += await change(ids);
    after = ids[ids.length - 1]!;
  }
}
