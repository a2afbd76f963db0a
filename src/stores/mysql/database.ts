import type { Connection, RowDataPacket } from 'mysql2/promise';
import { InvalidInputError, StoreUnavailableError } from '../../errors.js';
import { maskUrlPassword, URL_ENCODING_HINT } from '../url-in-messages.js';
import { explainMysqlConnectError } from './explain-error.js';
import { CALL_DEADLINE_MS, KEEPALIVE_MS } from '../deadline.js';
import { ConnectionPool } from './connection-pool.js';
import { retryOnLockErrors } from './transient.js';
import { assertSkipLockedSupport } from './server-version.js';
import { assertKnownParams, parsePoolSize, POOL_PARAM } from '../url-params.js';
import { type ForeignJobs, NO_FOREIGN } from './foreign-rows.js';

// The connections every role of the MySQL store shares: the URL parsed once, a small pool of
// UTC, READ COMMITTED sessions, the server checked on first use, errors translated into ones
// that name the store and the fix.

export interface MySqlStoreOptions {
  url: string;
  /**
   * Connections this process may open (claims, results and dispatches run side by side), unless
   * the URL says `?pool=`: what the user wrote wins over a caller's default.
   */
  maxConnections?: number;
  /** Deadline of each call, ms (default CALL_DEADLINE_MS). */
  callTimeoutMs?: number;
  /** Rows of Lightpack's PHP workers on this table (foreign-rows.ts). */
  foreignJobs?: ForeignJobs;
}

export class MySqlDatabase {
  readonly displayUrl: string;
  /** The URL as given (password included): `migrate --create-database` connects without the database. */
  readonly url: string;
  /** The jobs table; the registry, pause, stats and lease tables are named after it. */
  readonly table: string;
  /** Connections this process may open: the URL's ?pool=, else the caller's default. */
  readonly maxConnections: number;
  /** Rows PHP workers run: every claim, prune and requeue leaves them alone. */
  readonly foreign: ForeignJobs;
  private readonly pool: ConnectionPool;
  private readonly beatPool: ConnectionPool;
  private readonly callTimeoutMs: number;
  private serverChecked: Promise<void> | null = null;
  private packetLimit: number | null = null;
  /** MariaDB returns inserted ids itself (INSERT … RETURNING). */
  isMariaDb = false;

  constructor(options: MySqlStoreOptions) {
    this.url = options.url;
    this.callTimeoutMs = options.callTimeoutMs ?? CALL_DEADLINE_MS;
    this.foreign = options.foreignJobs ?? NO_FOREIGN;
    const src = parseUrl(options.url);
    const shown = new URL(src);
    if (shown.password) shown.password = '***';
    this.displayUrl = shown.toString();
    assertKnownParams(src.searchParams.keys(), {
      store: 'MySQL',
      url: options.url,
      known: [
        { name: 'table', means: 'the jobs table, default jobs' },
        { name: POOL_PARAM, means: 'connections each process may open, default 4' },
      ],
    });
    const pool = src.searchParams.get(POOL_PARAM);
    this.maxConnections = pool !== null ? parsePoolSize(pool, `the MySQL URL '${this.displayUrl}'`) : (options.maxConnections ?? 4);
    this.table = src.searchParams.get('table') ?? 'jobs';
    if (!/^[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(this.table)) {
      throw new InvalidInputError(`Invalid table name '${this.table}' in the database URL: use letters, digits and '_'`);
    }
    const database = decodeURIComponent(src.pathname.replace(/^\//, ''));
    if (!database) throw new InvalidInputError(`The MySQL URL '${this.displayUrl}' names no database: add it as the path, e.g. mysql://user@host:3306/app`);
    const connection = {
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
      // A peer that vanished (a cut link) is noticed between calls too.
      enableKeepAlive: true,
      keepAliveInitialDelay: KEEPALIVE_MS,
    };
    const init = async (conn: Connection) => {
      // UTC sessions: scheduling must not depend on the server's or Node's time zone.
      // READ COMMITTED: claims take no gap locks, so they never block concurrent dispatches.
      await conn.query("SET time_zone = '+00:00'");
      await conn.query('SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED');
    };
    this.pool = new ConnectionPool(connection, this.maxConnections, init);
    // Heartbeats have a connection of their own: a stuck claim or result write never delays one.
    this.beatPool = new ConnectionPool(connection, 1, init);
  }

  /**
   * Runs `fn` on a pooled connection, lock waits and deadlocks retried, errors explained. Past
   * `deadlineMs` (default CALL_DEADLINE_MS; null: none) its connection is destroyed and it fails.
   * `lane: 'beat'` uses the heartbeat's own connection.
   */
  async run<T>(fn: (conn: Connection) => Promise<T>, o: { deadlineMs?: number | null; lane?: 'beat' } = {}): Promise<T> {
    const deadlineMs = o.deadlineMs === undefined ? this.callTimeoutMs : o.deadlineMs;
    const pool = o.lane === 'beat' ? this.beatPool : this.pool;
    try {
      await this.checked();
      return await retryOnLockErrors(() => pool.use(fn, deadlineMs));
    } catch (e) {
      throw this.explain(e);
    }
  }

  /** The server checked once (retried after a failure): concurrent first calls share the check. */
  private async checked(): Promise<void> {
    if (!this.serverChecked) this.serverChecked = this.pool.use((c) => this.checkServer(c), CALL_DEADLINE_MS);
    await this.serverChecked.catch((e) => {
      this.serverChecked = null;
      throw e;
    });
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
    if (this.packetLimit === null) {
      try {
        await this.checked();
      } catch (e) {
        throw this.explain(e);
      }
    }
    // The statement around one payload needs some room within max_allowed_packet, and escaping
    // can double a payload in it (JSON is full of quotes): a payload of quotes 16.7 MB long
    // passed a check at the full limit and was then refused by the server.
    return Math.max(0, Math.floor(((this.packetLimit ?? 0) - 64 * 1024) / 2));
  }

  async close(): Promise<void> {
    await Promise.all([this.pool.close(), this.beatPool.close()]);
  }
}

/** The URL, or an error that names it (password masked) and the usual cause. */
function parseUrl(text: string): URL {
  try {
    return new URL(text);
  } catch {
    throw new InvalidInputError(`Invalid MySQL URL '${maskUrlPassword(text)}': use mysql://user:password@host:3306/database (${URL_ENCODING_HINT})`);
  }
}
