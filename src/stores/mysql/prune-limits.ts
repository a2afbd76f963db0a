import type { Connection, ResultSetHeader, RowDataPacket } from 'mysql2/promise';

// `<table>_limits` holds one lock row per concurrency key ever used (schema.ts): with keys per
// user or per tenant it would grow without end. A row is only a mutex, and every claim and
// every unblock upserts its key's row before it uses it, so a row whose key has no job waiting,
// blocked or running can go: the DELETE must take the row's lock first (a claim holding it
// finishes before), and the next claim of the key simply makes the row again.

/** Keys looked at per prune run at most: a run stays short however many keys there are. */
const KEYS_PER_RUN = 10_000;

/** Walks the limits table a slice per prune run, in key order, wrapping round at the end. */
export class IdleLimitKeys {
  /** The last key looked at ('' before the first): the next run goes on after it. */
  private after = '';

  constructor(private readonly table: string) {}

  /** Deletes the idle keys' rows of the next slice, `batch` keys per statement; returns how many. */
  async prune(conn: Connection, batch: number): Promise<number> {
    const t = this.table;
    let deleted = 0;
    for (let seen = 0; seen < KEYS_PER_RUN; seen += batch) {
      const [rows] = await conn.query<RowDataPacket[]>(
        `SELECT concurrency_key AS k FROM ${t}_limits WHERE concurrency_key > ? ORDER BY concurrency_key LIMIT ?`,
        [this.after, batch],
      );
      if (rows.length > 0) {
        const keys = rows.map((r) => String(r.k));
        const [res] = await conn.query<ResultSetHeader>(
          `DELETE FROM ${t}_limits WHERE concurrency_key IN (?) AND NOT EXISTS (
             SELECT 1 FROM ${t} FORCE INDEX (jobs_concurrency)
             WHERE ${t}.concurrency_key = ${t}_limits.concurrency_key AND ${t}.status IN ('new', 'blocked', 'processing'))`,
          [keys],
        );
        deleted += res.affectedRows;
        this.after = keys.at(-1)!;
      }
      if (rows.length < batch) {
        this.after = ''; // the end: the next run starts over
        break;
      }
    }
    return deleted;
  }
}
