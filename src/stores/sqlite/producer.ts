import { realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import type Database from 'better-sqlite3';
import { InvalidInputError } from '../../errors.js';
import { assertPayloadSize } from '../../values/payload.js';
import { EnqueueCoalescer, type EnqueueStats } from '../enqueue-coalescer.js';
import type { AppTransaction, Enqueued, JobId, NewJob, OutcomeReader, Producer, ScheduleDefinition } from '../store.js';
import type { SqliteDatabase } from './database.js';
import type { SqliteSchedules } from './schedules.js';

// SQLite's own limit on one value is 1e9 bytes; stay well below to keep memory sane.
const MAX_PAYLOAD_BYTES = 256 * 1024 * 1024;
// Dispatches gathered into one transaction: each row is its own prepared INSERT (no statement
// variables to run out of), so the bound only keeps one commit from holding the event loop long.
const GATHER_ROWS = 2000;
const GATHER_BYTES = 16 * 1024 * 1024;

const COLUMNS = `handler, queue, payload, status, attempts, max_attempts, retry_after_ms, timeout_ms, created_at, scheduled_at,
  priority, retry_policy, concurrency_key, concurrency_limit, rate_key, rate_limit, rate_per_ms, unique_key, unique_until, unique_expires_at`;
const VALUES = "?, ?, ?, 'new', 0, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?";

/**
 * Dispatch: one IMMEDIATE transaction (one commit) per dispatchMany, and per group of
 * dispatches made while the previous commit held the event loop (enqueue-coalescer.ts). A call
 * with a unique key goes alone (the coalescer carries ids only): the job's INSERT meets the
 * partial unique index jobs_unique, and a conflict reads the standing job under the same write
 * lock, so two dispatchers never both insert.
 */
export class SqliteProducer implements Producer {
  private readonly coalescer: EnqueueCoalescer;
  /** Set by the store: schedules insert their ticks' jobs through this producer. */
  schedules!: SqliteSchedules;

  constructor(
    private readonly db: SqliteDatabase,
    readonly outcomes?: OutcomeReader,
  ) {
    this.coalescer = new EnqueueCoalescer({
      store: 'sqlite',
      maxPayloadBytes: () => this.maxPayloadBytes(),
      statementLimit: () => ({ rows: GATHER_ROWS, bytes: GATHER_BYTES }),
      write: async (jobs) => this.insert(jobs),
      synchronous: true,
    });
  }

  get enqueueStats(): EnqueueStats {
    return this.coalescer.stats;
  }

  get displayUrl(): string {
    return this.db.displayUrl;
  }

  async maxPayloadBytes(): Promise<number> {
    return MAX_PAYLOAD_BYTES;
  }

  async close(): Promise<void> {
    this.db.close();
  }

  async saveSchedule(params: { schedule: ScheduleDefinition }): Promise<void> {
    this.schedules.save(params.schedule);
  }

  async removeSchedule(params: { key: string }): Promise<boolean> {
    return this.schedules.remove(params.key);
  }

  async enqueueWithOutcome(params: { jobs: NewJob[] }): Promise<Enqueued[]> {
    if (!params.jobs.some((j) => j.unique)) return (await this.coalescer.enqueue(params.jobs)).map((id) => ({ id, duplicate: false }));
    for (const j of params.jobs) assertPayloadSize(j.payload, MAX_PAYLOAD_BYTES, 'sqlite');
    return this.insertUnique(params.jobs);
  }

  async enqueue(params: { jobs: NewJob[] }): Promise<JobId[]> {
    if (!params.jobs.some((j) => j.unique)) return this.coalescer.enqueue(params.jobs);
    return (await this.enqueueWithOutcome(params)).map((o) => o.id);
  }

  /** Jobs without unique keys: a plain INSERT each, in one transaction (all or nothing, one commit). */
  private insert(jobs: NewJob[]): JobId[] {
    const rows = insertRows((sql) => this.db.stmt(sql));
    return this.db.handle.transaction((js: NewJob[]) => rows(js).map((o) => o.id)).immediate(jobs);
  }

  /**
   * Jobs of one call, some with unique keys, in one IMMEDIATE transaction. Also the insert of a
   * schedule's tick (schedules.ts), inside its transaction (then a savepoint), at its clock read `at`.
   */
  insertUnique(jobs: NewJob[], at?: number): Enqueued[] {
    return this.db.handle.transaction(insertRows((sql) => this.db.stmt(sql), at)).immediate(jobs);
  }

  /**
   * In the application's transaction on the same file (better-sqlite3 Database inside
   * db.transaction()): the same statements, synchronously, before this returns, in a savepoint
   * of it so a call is whole or absent. Refuses an ended transaction or another file.
   */
  enqueueInTransaction(params: { jobs: NewJob[]; transaction: AppTransaction }): Promise<Enqueued[]> {
    const tx = params.transaction;
    if (tx.dialect !== 'sqlite') throw new TypeError(`A ${tx.library} (MySQL) transaction cannot carry jobs to the SQLite store at ${this.displayUrl}`);
    return Promise.resolve(insertInSqliteTransaction(tx.handle, this.db.path, params.jobs));
  }

  async isCommitted(params: { id: JobId }): Promise<boolean> {
    return this.db.stmt<[number], { id: number }>('SELECT id FROM jobs WHERE id = ?').get(params.id) !== undefined;
  }
}

/** Statements prepared once per handle: the application's Database is not the store's. */
const prepared = new WeakMap<Database.Database, Map<string, Database.Statement>>();

/**
 * insertInTransaction for SQLite, callable without the store open (a dispatch inside
 * better-sqlite3's synchronous db.transaction() cannot wait for it): checks that `handle` is in an
 * open transaction on the store's file `storePath`, then inserts, synchronously.
 */
export function insertInSqliteTransaction(handle: Database.Database, storePath: string, jobs: NewJob[]): Enqueued[] {
  if (!handle.open || !handle.inTransaction) {
    throw new InvalidInputError(
      'The better-sqlite3 Database given to dispatch is not inside a transaction (it ended, or never began): nothing was written. Dispatch inside db.transaction(() => { … })',
    );
  }
  if (!sameFile(handle.name, storePath)) {
    throw new InvalidInputError(
      `The better-sqlite3 Database given to dispatch is the file ${handle.name}, but jobs go to sqlite:${storePath}: nothing was written. Give the app and jobs-runtime the same file (JOBS_DATABASE_URL or configure({ databaseUrl }))`,
    );
  }
  for (const j of jobs) assertPayloadSize(j.payload, MAX_PAYLOAD_BYTES, 'sqlite');
  const cache = prepared.get(handle) ?? new Map<string, Database.Statement>();
  prepared.set(handle, cache);
  const stmt = (sql: string): Database.Statement => {
    const st = cache.get(sql) ?? handle.prepare(sql);
    cache.set(sql, st);
    return st;
  };
  // Nested in the app's transaction, better-sqlite3 makes this a savepoint.
  try {
    return handle.transaction(insertRows(stmt))(jobs);
  } catch (e) {
    // The schema is created on a store's first use, never inside the app's transaction.
    const table = /no such table: (\S+)/.exec(String((e as Error)?.message))?.[1];
    if (!table) throw e;
    throw new InvalidInputError(
      `The table '${table}' does not exist in ${handle.name}: run \`jobs-runtime migrate\` first (or start a runtime, or dispatch once outside a transaction). Nothing of the job was written`,
    );
  }
}

function sameFile(a: string, b: string): boolean {
  const real = (p: string) => {
    try {
      return realpathSync(p);
    } catch {
      return resolve(p);
    }
  };
  return real(a) === real(b);
}

/**
 * The rows of one call, in input order, inside a transaction the caller holds: a later job of
 * the call with an earlier one's key meets it and is its duplicate.
 */
function insertRows(stmt: (sql: string) => Database.Statement, at?: number): (jobs: NewJob[]) => Enqueued[] {
  return (jobs) => {
    const insert = stmt(`INSERT INTO jobs (${COLUMNS}) VALUES (${VALUES}) RETURNING id`) as Database.Statement<unknown[], { id: number }>;
    // The index is what enforces the key: a held key inserts nothing (DO NOTHING).
    const insertKeyed = stmt(
      `INSERT INTO jobs (${COLUMNS}) VALUES (${VALUES})
        ON CONFLICT (handler, unique_key) WHERE unique_key IS NOT NULL DO NOTHING RETURNING id`,
    ) as Database.Statement<unknown[], { id: number }>;
    // The 'for' window: a holder whose window has passed gives the key up (it keeps running or waiting).
    const expire = stmt('UPDATE jobs SET unique_key = NULL WHERE handler = ? AND unique_key = ? AND unique_expires_at <= ?');
    const standing = stmt('SELECT id FROM jobs WHERE handler = ? AND unique_key = ?') as Database.Statement<[string, string], { id: number }>;
    const replace = stmt("UPDATE jobs SET payload = ?, scheduled_at = ?, rate_deferred = 0 WHERE id = ? AND status IN ('new', 'blocked')");
    // Read once the caller's write lock is held (a caller's `at` was read under it too).
    const now = at ?? Date.now();
    return jobs.map((j): Enqueued => {
      const u = j.unique;
      if (!u) return { id: insert.get(...values(j, now))!.id, duplicate: false };
      expire.run(j.handler, u.key, now);
      // The standing job is read first, under the write lock the transaction holds (no other
      // writer in between, so no race): an INSERT that DO NOTHING skips would still spend an
      // AUTOINCREMENT id, and ids would jump after each duplicate.
      let held = standing.get(j.handler, u.key);
      if (!held) {
        const inserted = insertKeyed.get(...values(j, now));
        if (inserted) return { id: inserted.id, duplicate: false };
        held = standing.get(j.handler, u.key)!; // the index found a holder after all
      }
      if (u.onConflict === 'replace') replace.run(j.payload, now + j.delayMs, held.id);
      return { id: held.id, duplicate: true };
    });
  };
}

/** The INSERT's values for one job (COLUMNS order). */
function values(j: NewJob, now: number): unknown[] {
  const u = j.unique ?? null;
  return [
    j.handler,
    j.queue,
    j.payload,
    j.maxAttempts,
    j.retryAfterMs,
    j.timeoutMs,
    now,
    now + j.delayMs,
    j.priority ?? 0,
    j.retryPolicy ?? null,
    j.concurrency?.key ?? null,
    j.concurrency?.limit ?? null,
    j.rate?.key ?? null,
    j.rate?.limit ?? null,
    j.rate?.perMs ?? null,
    u?.key ?? null,
    u?.until ?? null,
    u === null || u.forMs === null ? null : now + u.forMs,
  ];
}
