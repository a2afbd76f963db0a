import type { Connection, ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import { chunkJobs } from '../chunk-jobs.js';
import { EnqueueCoalescer, type EnqueueStats } from '../enqueue-coalescer.js';
import type { AppTransaction, Enqueued, JobId, NewJob, OutcomeReader, Producer, ScheduleDefinition } from '../store.js';
import type { MySqlDatabase } from './database.js';
import { MySqlSchedules } from './schedules.js';
import { checkTransaction, explainInTransaction, insertInTransaction, SERVER, type ServerIdentity } from './transaction-insert.js';
import { insertSql, insertUniqueChunk } from './unique-insert.js';

// Rows per INSERT statement: large enough for ~100k jobs/s, small enough to stay far below
// max_allowed_packet for small payloads (a byte budget applies as well).
const ENQUEUE_ROWS_PER_STATEMENT = 2000;

/** The bytes one INSERT may carry: half of what a payload may be, and at least 1 MB. */
function statementBytes(maxPayloadBytes: number): number {
  return Math.max(1024 * 1024, maxPayloadBytes / 2);
}

/**
 * Dispatch: multi-row INSERTs, one transaction per dispatchMany; concurrent dispatches gather
 * into one INSERT while another is in flight (enqueue-coalescer.ts).
 */
export class MySqlProducer implements Producer {
  private readonly coalescer: EnqueueCoalescer;
  private readonly schedules: MySqlSchedules;
  private identity: Promise<ServerIdentity> | null = null;

  constructor(
    private readonly db: MySqlDatabase,
    readonly outcomes?: OutcomeReader,
  ) {
    this.schedules = new MySqlSchedules(db);
    this.coalescer = new EnqueueCoalescer({
      store: 'mysql',
      maxPayloadBytes: () => this.maxPayloadBytes(),
      statementLimit: (max) => ({ rows: ENQUEUE_ROWS_PER_STATEMENT, bytes: statementBytes(max) }),
      write: (jobs) => this.insert(jobs),
      // Beside a stalled INSERT, the next goes on another connection, up to the pool.
      maxInFlight: db.maxConnections,
    });
  }

  get enqueueStats(): EnqueueStats {
    return this.coalescer.stats;
  }

  get displayUrl(): string {
    return this.db.displayUrl;
  }

  maxPayloadBytes(): Promise<number> {
    return this.db.maxPayloadBytes();
  }

  close(): Promise<void> {
    return this.db.close();
  }

  async wakeAddresses(): Promise<string[]> {
    const [rows] = await this.db.run((conn) =>
      conn.query<RowDataPacket[]>(`SELECT wake_address FROM ${this.db.table}_runtimes WHERE wake_address IS NOT NULL`),
    );
    return rows.map((r) => String(r.wake_address));
  }

  saveSchedule(params: { schedule: ScheduleDefinition }): Promise<void> {
    return this.schedules.save(params.schedule);
  }

  removeSchedule(params: { key: string }): Promise<boolean> {
    return this.schedules.remove(params.key);
  }

  enqueueWithOutcome(params: { jobs: NewJob[] }): Promise<Enqueued[]> {
    return this.coalescer.enqueueWithOutcome(params.jobs);
  }

  enqueue(params: { jobs: NewJob[] }): Promise<JobId[]> {
    return this.coalescer.enqueue(params.jobs);
  }

  async enqueueInTransaction(params: { jobs: NewJob[]; transaction: AppTransaction }): Promise<Enqueued[]> {
    const tx = params.transaction;
    if (tx.dialect !== 'mysql') throw new TypeError(`A ${tx.library} (SQLite) transaction cannot carry jobs to the MySQL store at ${this.displayUrl}`);
    const store = await this.serverIdentity(); // also learns whether the server is MariaDB
    await checkTransaction(tx, this.db.isMariaDb, store, this.displayUrl);
    const max = await this.maxPayloadBytes();
    const o = {
      table: this.db.table,
      isMariaDb: this.db.isMariaDb,
      maxPayloadBytes: max,
      rowsPerStatement: ENQUEUE_ROWS_PER_STATEMENT,
      statementBytes: statementBytes(max),
    };
    try {
      return await insertInTransaction(tx, o, params.jobs);
    } catch (e) {
      throw explainInTransaction(e, tx.library, this.displayUrl);
    }
  }

  async isCommitted(params: { id: JobId }): Promise<boolean> {
    const [rows] = await this.db.run((conn) => conn.query<RowDataPacket[]>(`SELECT 1 FROM ${this.db.table} WHERE id = ?`, [params.id]));
    return rows.length > 0;
  }

  /** The store's database and server, read once on its own connection. */
  private serverIdentity(): Promise<ServerIdentity> {
    this.identity ??= this.db
      .run((conn) => conn.query<RowDataPacket[]>(`SELECT DATABASE() AS d, ${SERVER} AS s`))
      .then(([[row]]) => ({ database: String(row?.d), server: String(row?.s) }));
    this.identity.catch(() => {
      this.identity = null;
    });
    return this.identity;
  }

  /**
   * Jobs whose payloads were checked, all or nothing: one INSERT, or several in one transaction.
   * Jobs without a unique key take the plain multi-row INSERT; a write with unique keys goes
   * through unique-insert.ts (its own transaction, one round trip per chunk).
   */
  private async insert(jobs: NewJob[]): Promise<JobId[] | Enqueued[]> {
    const chunks = chunkJobs(jobs, ENQUEUE_ROWS_PER_STATEMENT, statementBytes(await this.maxPayloadBytes()));
    if (jobs.some((j) => j.unique)) return this.db.run((conn) => this.insertUnique(conn, chunks));
    return this.db.run(async (conn) => {
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

  /** One transaction, BEGIN with the first chunk and COMMIT with the last: one round trip for one chunk. */
  private async insertUnique(conn: Connection, chunks: NewJob[][]): Promise<Enqueued[]> {
    try {
      const out: Enqueued[] = [];
      for (const [i, chunk] of chunks.entries()) {
        out.push(...(await insertUniqueChunk(conn, this.db.table, this.db.isMariaDb, chunk, { begin: i === 0, commit: i === chunks.length - 1 })));
      }
      return out;
    } catch (e) {
      await conn.query('ROLLBACK').catch(() => undefined);
      throw e;
    }
  }

  private async insertChunk(conn: Connection, jobs: NewJob[]): Promise<JobId[]> {
    const { sql, values } = insertSql(this.db.table, jobs);
    if (this.db.isMariaDb) {
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
}
