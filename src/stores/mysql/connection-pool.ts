import mysql from 'mysql2/promise';
import type { Connection, ConnectionOptions } from 'mysql2/promise';
import type { Socket } from 'node:net';
import { withDeadline } from '../deadline.js';

// A tiny pool instead of mysql2's: its idle-timeout timer keeps the event loop alive, and an
// application that only dispatches must exit by itself when its script ends. Here every idle
// connection's socket is unref'd, and ref'd again only while a query is in flight.

type Conn = Connection & { connection: { stream?: Socket } };

function socketOf(conn: Conn): Socket | undefined {
  return conn.connection?.stream;
}

export class ConnectionPool {
  private idle: Conn[] = [];
  private open = 0;
  private waiters: Array<(c: Conn | Error) => void> = [];
  private closed = false;

  constructor(
    private readonly options: ConnectionOptions,
    private readonly max: number,
    /** Runs once per new connection (session settings). */
    private readonly init: (conn: Connection) => Promise<void>,
  ) {}

  /**
   * Runs `fn` on a connection of its own; the connection returns to the pool afterwards. Past
   * `deadlineMs` (null: none) the connection is destroyed and the call fails (StoreTimeoutError).
   */
  async use<T>(fn: (conn: Connection) => Promise<T>, deadlineMs: number | null): Promise<T> {
    const conn = await this.acquire();
    socketOf(conn)?.ref();
    let broken = false;
    try {
      return await withDeadline(fn(conn), deadlineMs, () => conn.destroy());
    } catch (e) {
      // A connection-level error leaves the connection unusable; a query error does not.
      broken = isConnectionError(e);
      throw e;
    } finally {
      this.release(conn, broken);
    }
  }

  private async acquire(): Promise<Conn> {
    if (this.closed) throw new Error('the MySQL store is closed');
    const conn = this.idle.pop();
    if (conn) return conn;
    if (this.open < this.max) {
      this.open++;
      try {
        const c = (await mysql.createConnection(this.options)) as Conn;
        // A server-side disconnect on an idle connection emits 'error'; without a listener it
        // would crash the process. The connection is dropped at its next use.
        c.on('error', () => this.drop(c));
        try {
          await this.init(c);
        } catch (e) {
          c.destroy(); // its open socket would keep the process alive
          throw e;
        }
        return c;
      } catch (e) {
        this.open--;
        throw e;
      }
    }
    return new Promise<Conn>((resolve, reject) => {
      this.waiters.push((c) => (c instanceof Error ? reject(c) : resolve(c)));
    });
  }

  private release(conn: Conn, broken: boolean): void {
    if (broken || this.closed) {
      this.drop(conn);
      return;
    }
    const waiter = this.waiters.shift();
    if (waiter) {
      waiter(conn);
      return;
    }
    socketOf(conn)?.unref();
    this.idle.push(conn);
  }

  private drop(conn: Conn): void {
    const i = this.idle.indexOf(conn);
    if (i >= 0) this.idle.splice(i, 1);
    this.open = Math.max(0, this.open - 1);
    conn.destroy();
    // Someone waiting may now open a fresh connection.
    const waiter = this.waiters.shift();
    if (waiter) this.acquire().then(waiter, waiter);
  }

  async close(): Promise<void> {
    this.closed = true;
    const conns = this.idle.splice(0);
    await Promise.all(conns.map((c) => c.end().catch(() => c.destroy())));
    for (const w of this.waiters.splice(0)) w(new Error('the MySQL store was closed'));
  }
}

const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENOTFOUND',
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_SEQUENCE_TIMEOUT',
  'ER_SERVER_SHUTDOWN',
  'ER_CON_COUNT_ERROR',
]);

export function isConnectionError(e: unknown): boolean {
  const err = e as { code?: string; fatal?: boolean } | null;
  return !!err && (err.fatal === true || (typeof err.code === 'string' && CONNECTION_CODES.has(err.code)));
}
