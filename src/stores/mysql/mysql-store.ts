import { chunkJobs, chunkResults } from '../chunk-jobs.js';
import type { Connection, ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import { InvalidInputError, StoreUnavailableError } from '../../errors.js';
import { maskUrlPassword, URL_ENCODING_HINT } from '../url-in-messages.js';
import { explainMysqlConnectError } from './explain-error.js';
import type {
  ClaimedJob,
  FailedPage,
  FailedSelection,
  JobId,
  JobRecord,
  JobResult,
  JobStore,
  MigrationReport,
  NewJob,
  PausedQueue,
  PruneReport,
  QueueCounts,
  QueueThroughput,
  RecoveryReport,
  RuntimeInfo,
  RuntimeRecord,
  RuntimeStats,
} from '../store.js';
import { listRuntimes, recoverDead, upsertRuntime } from './registry.js';
import { ConnectionPool } from './connection-pool.js';
import { planMigration } from './schema.js';
import * as ops from './ops.js';
import { selectDueArgs, selectDueSql } from './claim-sql.js';
import { retryOnLockErrors } from './transient.js';
import { assertSkipLockedSupport } from './server-version.js';

// Rows per INSERT statement: large enough for ~100k jobs/s, small enough to stay far below
// max_allowed_packet for small payloads (a byte budget applies as well).
const ENQUEUE_ROWS_PER_STATEMENT = 2000;
// Bytes of error text per results write: far below max_allowed_packet (16 MB by default; 1 MB on old servers).
const RECORD_BYTES = 512 * 1024;

export interface MySqlStoreOptions {
  url: string;
  /** Connections this process may open (claims, results and dispatches run side by side). */
  maxConnections?: number;
}

export class MySqlStore implements JobStore {
  readonly kind = 'mysql';
  readonly displayUrl: string;
  private readonly pool: ConnectionPool;
  private readonly table: string;
  private serverChecked: Promise<void> | null = null;
  private packetLimit: number | null = null;
  private isMariaDb = false;

  constructor(options: MySqlStoreOptions) {
    const src = parseUrl(options.url);
    const shown = new URL(src);
    if (shown.password) shown.password = '***';
    this.displayUrl = shown.toString();
    this.table = src.searchParams.get('table') ?? 'jobs';
    if (!/^[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(this.table)) {
      throw new InvalidInputError(`Invalid table name '${this.table}' in the database URL: use letters, digits and '_'`);
    }
    const database = decodeURIComponent(src.pathname.replace(/^\//, ''));
    if (!database) throw new InvalidInputError(`The MySQL URL '${this.displayUrl}' names no database: add it as the path, e.g. mysql://user@host:3306/app`);
    this.pool = new ConnectionPool(
      {
        host: src.hostname || '127.0.0.1',
        port: src.port ? Number(src.port) : 3306,
        user: decodeURIComponent(src.username || 'root'),
        password: decodeURIComponent(src.password),
        database,
        timezone: 'Z',
        charset: 'utf8mb4_unicode_ci',
        supportBigNumbers: true,
        bigNumberStrings: false,
        connectTimeout: 10_000,
        // Claims send BEGIN with their SELECT and the UPDATE with COMMIT: half the round trips.
        // Every statement still takes parameters only.
        multipleStatements: true,
      },
      options.maxConnections ?? 4,
      async (conn) => {
        // UTC sessions: scheduling must not depend on the server's or Node's time zone.
        // READ COMMITTED: claims take no gap locks, so they never block concurrent dispatches.
        await conn.query("SET time_zone = '+00:00'");
        await conn.query('SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED');
      },
    );
  }

  private async run<T>(fn: (conn: Connection) => Promise<T>): Promise<T> {
    try {
      if (!this.serverChecked) this.serverChecked = this.pool.use((c) => this.checkServer(c));
      await this.serverChecked.catch((e) => {
        this.serverChecked = null;
        throw e;
      });
      return await retryOnLockErrors(() => this.pool.use(fn));
    } catch (e) {
      throw this.explain(e);
    }
  }

  private async checkServer(conn: Connection): Promise<void> {
    const [rows] = await conn.query<RowDataPacket[]>('SELECT VERSION() AS v, @@max_allowed_packet AS p');
    const version = String(rows[0]?.v ?? '');
    this.isMariaDb = /mariadb/i.test(version);
    assertSkipLockedSupport(version);
    this.packetLimit = Number(rows[0]?.p ?? 4 * 1024 * 1024);
  }

  private explain(e: unknown): unknown {
    const err = e as { code?: string; errno?: number; message?: string };
    const connectError = explainMysqlConnectError(e, this.displayUrl);
    if (connectError) return connectError;
    if (err?.errno === 1146) {
      // The jobs table or one beside it (runtimes, paused, stats, leases) from a newer version.
      const missing = /Table '(?:[^'.]*\.)?([^']+)' doesn't exist/.exec(err.message ?? '')?.[1] ?? this.table;
      return new StoreUnavailableError(`The table '${missing}' does not exist at ${this.displayUrl}: run \`jobs-runtime migrate\` first`);
    }
    if (err?.errno === 1054) {
      return new StoreUnavailableError(
        `The table '${this.table}' at ${this.displayUrl} is missing columns jobs-runtime needs (${err.message}): run \`jobs-runtime migrate\` to upgrade it in place`,
      );
    }
    return e;
  }

  async maxPayloadBytes(): Promise<number> {
    if (this.packetLimit === null) await this.run(async () => undefined);
    // The statement around one payload needs some room within max_allowed_packet, and escaping
    // can double a payload in it (JSON is full of quotes): a payload of quotes 16.7 MB long
    // passed a check at the full limit and was then refused by the server.
    return Math.max(0, Math.floor(((this.packetLimit ?? 0) - 64 * 1024) / 2));
  }

  async migrate(params: { dryRun?: boolean; requeueLegacyClaimed?: boolean }): Promise<MigrationReport> {
    return this.run(async (conn) => {
      const statements = await planMigration(conn, this.table);
      if (!params.dryRun) for (const sql of statements) await conn.query(sql);
      const notices = await this.legacyClaimed(conn, params.requeueLegacyClaimed === true && !params.dryRun);
      return { statements, ...(notices.length ? { notices } : {}) };
    });
  }

  /**
   * Rows the PHP worker this runtime replaces had claimed (status 'queued'): no runtime of ours
   * ever takes them, so they are reported, or given back to run again when asked.
   */
  private async legacyClaimed(conn: Connection, requeue: boolean): Promise<string[]> {
    let n: number;
    try {
      const [rows] = await conn.query<RowDataPacket[]>(`SELECT COUNT(*) AS n FROM ${this.table} WHERE status = 'queued'`);
      n = Number(rows[0]?.n ?? 0);
    } catch (e) {
      if ((e as { errno?: number }).errno === 1146) return []; // no table yet
      throw e;
    }
    if (n === 0) return [];
    if (requeue) {
      const [res] = await conn.query<ResultSetHeader>(`UPDATE ${this.table} SET status = 'new', attempts = GREATEST(attempts - 1, 0) WHERE status = 'queued'`);
      return [`Gave back ${res.affectedRows} job(s) the old worker had claimed (status 'queued'): they run again, not charged an attempt`];
    }
    return [
      `${n} job(s) are in status 'queued': claimed by the old worker, and never taken by jobs-runtime. ` +
        `Once no old worker runs, \`jobs-runtime migrate --requeue-queued\` gives them back to run again (not charged an attempt)`,
    ];
  }

  async enqueue(params: { jobs: NewJob[] }): Promise<JobId[]> {
    const { jobs } = params;
    if (jobs.length === 0) return [];
    const budget = Math.max(1024 * 1024, (await this.maxPayloadBytes()) / 2);
    const chunks = chunkJobs(jobs, ENQUEUE_ROWS_PER_STATEMENT, budget);
    return this.run(async (conn) => {
      // Several statements are one transaction: a dispatchMany is all or nothing.
      if (chunks.length > 1) await conn.query('START TRANSACTION');
      try {
        const ids: JobId[] = [];
        for (const chunk of chunks) ids.push(...(await this.insertChunk(conn, chunk)));
        if (chunks.length > 1) await conn.query('COMMIT');
        return ids;
      } catch (e) {
        if (chunks.length > 1) await conn.query('ROLLBACK').catch(() => undefined);
        throw e;
      }
    });
  }

  private async insertChunk(conn: Connection, jobs: NewJob[]): Promise<JobId[]> {
    const values: unknown[] = [];
    const rows: string[] = [];
    for (const j of jobs) {
      rows.push("(?, ?, ?, 'new', 0, ?, ?, ?, UTC_TIMESTAMP(3), UTC_TIMESTAMP(3) + INTERVAL ? MICROSECOND)");
      values.push(j.handler, j.queue, j.payload, j.maxAttempts, j.retryAfterMs, j.timeoutMs, j.delayMs * 1000);
    }
    const sql = `INSERT INTO ${this.table} (handler, queue, payload, status, attempts, max_attempts, retry_after_ms, timeout_ms, created_at, scheduled_at) VALUES ${rows.join(', ')}`;
    if (this.isMariaDb) {
      // MariaDB returns the ids themselves; nothing is inferred.
      const [res] = await conn.query<RowDataPacket[]>(`${sql} RETURNING id`, values);
      return res.map((r) => Number(r.id));
    }
    // MySQL: one multi-row INSERT gets consecutive ids (a "simple insert"), spaced by the increment.
    const [res] = await conn.query<ResultSetHeader>(sql, values);
    const [[inc]] = await conn.query<RowDataPacket[]>('SELECT @@auto_increment_increment AS i');
    const step = Number(inc?.i ?? 1);
    return jobs.map((_, i) => Number(res.insertId) + i * step);
  }

  async claim(params: { owner: string; queues: string[] | null; limit: number }): Promise<ClaimedJob[]> {
    const { owner, queues, limit } = params;
    if (limit <= 0) return [];
    return this.run(async (conn) => {
      // Two round trips for the common case: BEGIN with the first SELECT, the UPDATE with COMMIT.
      let begun = false;
      try {
        const rows: RowDataPacket[] = [];
        for (const queue of queues ?? [null]) {
          const want = limit - rows.length;
          if (want <= 0) break;
          const sql = selectDueSql(this.table, queue !== null);
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
          `UPDATE ${this.table} SET status = 'processing', attempts = attempts + 1, owner = ?, claimed_at = UTC_TIMESTAMP(3) WHERE id IN (?); COMMIT`,
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
      parts.push(ops.countFinishedSql(this.table, column));
      args.push(queue, ops.statsSlot(owner));
    };
    for (const [queue, ids] of completedByQueue(results)) {
      parts.push(
        keepCompleted
          ? `UPDATE ${this.table} SET status = 'completed', owner = NULL, completed_at = UTC_TIMESTAMP(3) WHERE id IN (?) AND owner = ? AND status = 'processing'`
          : `DELETE FROM ${this.table} WHERE id IN (?) AND owner = ? AND status = 'processing'`,
      );
      args.push(ids, owner);
      count(queue, 'completed');
    }
    for (const r of results) {
      if (r.outcome === 'retry') {
        parts.push(
          `UPDATE ${this.table} SET status = 'new', owner = NULL, claimed_at = NULL, exception = ?,
             scheduled_at = UTC_TIMESTAMP(3) + INTERVAL ? MICROSECOND
           WHERE id = ? AND owner = ? AND status = 'processing'`,
        );
        args.push(r.error, r.delayMs * 1000, r.id, owner);
      } else if (r.outcome === 'failed') {
        parts.push(
          `UPDATE ${this.table} SET status = 'failed', owner = NULL, claimed_at = NULL, exception = ?, failed_at = UTC_TIMESTAMP(3)
           WHERE id = ? AND owner = ? AND status = 'processing'`,
        );
        args.push(r.error, r.id, owner);
        count(r.queue, 'failed');
      }
    }
    const txn = parts.length > 1;
    await this.run(async (conn) => {
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
    return this.run(async (conn) => {
      const [res] = await conn.query<ResultSetHeader>(
        `UPDATE ${this.table} SET status = 'new', owner = NULL, claimed_at = NULL, attempts = GREATEST(attempts - 1, 0)
          WHERE id IN (?) AND owner = ? AND status = 'processing'`,
        [params.ids, params.owner],
      );
      return res.affectedRows;
    });
  }

  async releaseUnheld(params: { owner: string; heldIds: JobId[] }): Promise<number> {
    return this.run(async (conn) => {
      const [res] = await conn.query<ResultSetHeader>(
        `UPDATE ${this.table} SET status = 'new', owner = NULL, claimed_at = NULL, attempts = GREATEST(attempts - 1, 0)
          WHERE owner = ? AND status = 'processing' AND id NOT IN (?)`,
        [params.owner, params.heldIds.length ? params.heldIds : [0]], // ids start at 1: [0] keeps the SQL valid
      );
      return res.affectedRows;
    });
  }

  async counts(params: { queues?: string[] }): Promise<QueueCounts[]> {
    return this.run(async (conn) => {
      const filter = params.queues?.length ? 'WHERE queue IN (?)' : '';
      const [rows] = await conn.query<RowDataPacket[]>(
        `SELECT queue,
                SUM(status = 'new' AND scheduled_at <= UTC_TIMESTAMP(3)) AS n_waiting,
                SUM(status = 'new' AND scheduled_at > UTC_TIMESTAMP(3)) AS n_delayed,
                SUM(status = 'processing') AS n_processing,
                SUM(status = 'failed') AS n_failed
           FROM ${this.table} ${filter} GROUP BY queue ORDER BY queue`,
        params.queues?.length ? [params.queues] : [],
      );
      return rows.map((r) => ({
        queue: String(r.queue),
        waiting: Number(r.n_waiting),
        delayed: Number(r.n_delayed),
        processing: Number(r.n_processing),
        failed: Number(r.n_failed),
      }));
    });
  }

  async registerRuntime(params: { runtime: RuntimeInfo }): Promise<void> {
    await this.run((conn) => upsertRuntime(conn, this.table, params.runtime, null));
  }

  async heartbeat(params: { runtime: RuntimeInfo; stats: RuntimeStats }): Promise<void> {
    await this.run((conn) => upsertRuntime(conn, this.table, params.runtime, params.stats));
  }

  async deregisterRuntime(params: { id: string }): Promise<void> {
    await this.run((conn) => conn.query(`DELETE FROM ${this.table}_runtimes WHERE id = ?`, [params.id]));
  }

  async listRuntimes(): Promise<RuntimeRecord[]> {
    return this.run((conn) => listRuntimes(conn, this.table));
  }

  async recoverDeadRuntimes(params: { deadAfterMs: number; maxInterruptions: number; alsoDead?: string[] }): Promise<RecoveryReport> {
    return this.run((conn) => recoverDead(conn, this.table, params));
  }

  async getJob(params: { id: JobId }): Promise<JobRecord | null> {
    return this.run(async (conn) => {
      const [rows] = await conn.query<RowDataPacket[]>(`SELECT * FROM ${this.table} WHERE id = ?`, [params.id]);
      return rows[0] ? ops.toRecord(rows[0]) : null;
    });
  }

  async listFailed(params: FailedSelection & { limit: number }): Promise<FailedPage> {
    return this.run((conn) => ops.listFailed(conn, this.table, params));
  }

  async retryFailed(params: FailedSelection): Promise<number> {
    return this.run((conn) => ops.retryFailed(conn, this.table, params));
  }

  async deleteFailed(params: FailedSelection): Promise<number> {
    return this.run((conn) => ops.deleteFailed(conn, this.table, params));
  }

  async setQueuePaused(params: { queue: string; paused: boolean }): Promise<boolean> {
    return this.run((conn) => ops.setQueuePaused(conn, this.table, params));
  }

  async listPausedQueues(): Promise<PausedQueue[]> {
    return this.run((conn) => ops.listPausedQueues(conn, this.table));
  }

  async throughput(params: { sinceMs: number }): Promise<QueueThroughput[]> {
    return this.run((conn) => ops.throughput(conn, this.table, params));
  }

  async prune(params: { completedOlderThanMs: number | null; failedOlderThanMs: number | null; batchSize?: number }): Promise<PruneReport> {
    return this.run((conn) => ops.prune(conn, this.table, params));
  }

  async acquireLease(params: { name: string; owner: string; ttlMs: number }): Promise<boolean> {
    return this.run((conn) => ops.acquireLease(conn, this.table, params));
  }

  async releaseLease(params: { name: string; owner: string }): Promise<void> {
    await this.run((conn) => ops.releaseLease(conn, this.table, params));
  }

  async close(): Promise<void> {
    await this.pool.close();
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

/** The URL, or an error that names it (password masked) and the usual cause. */
function parseUrl(text: string): URL {
  try {
    return new URL(text);
  } catch {
    throw new InvalidInputError(`Invalid MySQL URL '${maskUrlPassword(text)}': use mysql://user:password@host:3306/database (${URL_ENCODING_HINT})`);
  }
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
