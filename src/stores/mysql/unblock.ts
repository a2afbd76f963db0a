import type { Connection, RowDataPacket } from 'mysql2/promise';

// Freeing concurrency slots. Whatever stops a processing job with a concurrency key (a result,
// a release, a recovery, the orphan sweep) calls this in the same transaction, after its own
// changes: under the key's lock row (the one claims take) it counts the key's processing jobs
// and puts up to (limit - processing) blocked jobs of the key back to 'new', in claim order. A
// claim that blocked a job either committed before this took the lock (so the job is seen here)
// or takes the lock after this commits (so it counts the freed slot): no blocked job is left
// beside a free slot.

/** The concurrency keys and limits of the rows being changed (`rows` with concurrency_key, concurrency_limit). */
export function keyLimits(rows: RowDataPacket[]): Map<string, number> {
  const limits = new Map<string, number>();
  for (const r of rows) {
    if (r.concurrency_key === null || r.concurrency_key === undefined) continue;
    const k = String(r.concurrency_key);
    limits.set(k, Math.max(limits.get(k) ?? 0, Number(r.concurrency_limit)));
  }
  return limits;
}

/**
 * Puts a key's first `?` blocked jobs (claim order) back to 'new'. Parameters: key, how many.
 * The ids come from a derived table read in jobs_concurrency order: a single-table UPDATE …
 * ORDER BY … LIMIT that changes `status`, a column of the index it would scan, is planned as a
 * filesort of every blocked job of the key instead.
 */
export function unblockSql(table: string): string {
  return `UPDATE ${table} AS j JOIN (
      SELECT id FROM ${table} FORCE INDEX (jobs_concurrency) WHERE concurrency_key = ? AND status = 'blocked' ORDER BY priority, scheduled_at, id LIMIT ?
    ) AS b USING (id) SET j.status = 'new'`;
}

/**
 * Unblocks what the freed slots allow, inside the caller's transaction; `then` (e.g. COMMIT)
 * goes with the last round trip. Two round trips: lock and count, then the UPDATEs.
 */
export async function unblockKeys(conn: Connection, table: string, limits: Map<string, number>, then: string | null): Promise<void> {
  if (limits.size === 0) {
    if (then) await conn.query(then);
    return;
  }
  const keys = [...limits.keys()].sort();
  // Which keys have blocked jobs at all (one index read per key: the range form of the status
  // condition lets MariaDB read it as a loose index scan, as in claim-sql.ts): most freed slots
  // have none waiting, and then cost no UPDATE.
  const [sets] = await conn.query<RowDataPacket[][]>(
    `INSERT INTO ${table}_limits (concurrency_key) VALUES ${keys.map(() => '(?)').join(', ')} ON DUPLICATE KEY UPDATE concurrency_key = concurrency_key;
     SELECT concurrency_key AS k, COUNT(*) AS n FROM ${table} FORCE INDEX (jobs_concurrency)
      WHERE concurrency_key IN (?) AND status = 'processing' GROUP BY concurrency_key;
     SELECT concurrency_key AS k FROM ${table} FORCE INDEX (jobs_concurrency)
      WHERE concurrency_key IN (?) AND status >= 'blocked' AND status <= 'blocked' GROUP BY concurrency_key`,
    [...keys, keys, keys],
  );
  const running = new Map(sets[1]!.map((r) => [String(r.k), Number(r.n)]));
  const waiting = new Set(sets[2]!.map((r) => String(r.k)));
  const stmts: string[] = [];
  const args: unknown[] = [];
  for (const k of keys) {
    if (!waiting.has(k)) continue;
    const free = limits.get(k)! - (running.get(k) ?? 0);
    if (free <= 0) continue;
    stmts.push(unblockSql(table));
    args.push(k, free);
  }
  if (then) stmts.push(then);
  if (stmts.length > 0) await conn.query(stmts.join('; '), args);
}
