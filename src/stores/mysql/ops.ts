import type { Connection, ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import {
  OPS_BATCH,
  THROUGHPUT_KEEP_MS,
  type FailedPage,
  type FailedSelection,
  type JobId,
  type JobRecord,
  type PausedQueue,
  type PruneReport,
  type QueueThroughput,
} from '../store.js';
import { STATS_SLOTS } from './schema.js';

// Operator commands, MySQL dialect: failed jobs, paused queues, throughput counters, pruning and
// leases. Bulk changes go in batches of OPS_BATCH rows, each its own short statement, so a
// claim never waits long behind one. Times are the database's (UTC sessions).

/**
 * Adds what the statement just before it finished (its ROW_COUNT()) to one queue's counter in
 * <table>_stats. Parameters: queue, slot. Nothing is written when it changed no row.
 */
export function countFinishedSql(table: string, column: 'completed' | 'failed'): string {
  return `INSERT INTO ${table}_stats (minute, queue, slot, completed, failed)
    SELECT UNIX_TIMESTAMP() DIV 60, ?, ?, ${column === 'completed' ? 'ROW_COUNT(), 0' : '0, ROW_COUNT()'} FROM DUAL WHERE ROW_COUNT() > 0
    ON DUPLICATE KEY UPDATE ${column} = ${column} + VALUES(${column})`;
}

/** The stats row slot of one runtime: a stable hash of its id. */
export function statsSlot(owner: string): number {
  let h = 0;
  for (let i = 0; i < owner.length; i++) h = (h * 31 + owner.charCodeAt(i)) >>> 0;
  return h % STATS_SLOTS;
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

export async function listFailed(conn: Connection, table: string, params: FailedSelection & { limit: number }): Promise<FailedPage> {
  const w = failedWhere(params);
  if (!w) return { jobs: [], total: 0 };
  const [rows] = await conn.query<RowDataPacket[]>(`SELECT * FROM ${table} WHERE ${w.where} ORDER BY failed_at DESC, id DESC LIMIT ?`, [
    ...w.args,
    params.limit,
  ]);
  const [[count]] = await conn.query<RowDataPacket[]>(`SELECT COUNT(*) AS n FROM ${table} WHERE ${w.where}`, w.args);
  return { jobs: rows.map(toRecord), total: Number(count?.n ?? 0) };
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

export function retryFailed(conn: Connection, table: string, sel: FailedSelection): Promise<number> {
  return eachFailedBatch(conn, table, sel, async (ids) => {
    const [res] = await conn.query<ResultSetHeader>(
      `UPDATE ${table} SET status = 'new', attempts = 0, interruptions = 0, failed_at = NULL, owner = NULL, claimed_at = NULL,
         scheduled_at = UTC_TIMESTAMP(3)
       WHERE id IN (?) AND status = 'failed'`,
      [ids],
    );
    return res.affectedRows;
  });
}

export function deleteFailed(conn: Connection, table: string, sel: FailedSelection): Promise<number> {
  return eachFailedBatch(conn, table, sel, async (ids) => {
    const [res] = await conn.query<ResultSetHeader>(`DELETE FROM ${table} WHERE id IN (?) AND status = 'failed'`, [ids]);
    return res.affectedRows;
  });
}

export async function setQueuePaused(conn: Connection, table: string, params: { queue: string; paused: boolean }): Promise<boolean> {
  const [res] = params.paused
    ? await conn.query<ResultSetHeader>(`INSERT IGNORE INTO ${table}_paused (queue, paused_at) VALUES (?, UTC_TIMESTAMP(3))`, [params.queue])
    : await conn.query<ResultSetHeader>(`DELETE FROM ${table}_paused WHERE queue = ?`, [params.queue]);
  return res.affectedRows > 0;
}

export async function listPausedQueues(conn: Connection, table: string): Promise<PausedQueue[]> {
  const [rows] = await conn.query<RowDataPacket[]>(`SELECT queue, paused_at FROM ${table}_paused ORDER BY queue`);
  return rows.map((r) => ({ queue: String(r.queue), pausedAt: r.paused_at as Date }));
}

export async function throughput(conn: Connection, table: string, params: { sinceMs: number }): Promise<QueueThroughput[]> {
  const [rows] = await conn.query<RowDataPacket[]>(
    `SELECT queue, SUM(completed) AS completed, SUM(failed) AS failed FROM ${table}_stats
      WHERE minute >= FLOOR((UNIX_TIMESTAMP(NOW(3)) * 1000 - ?) / 60000) GROUP BY queue ORDER BY queue`,
    [params.sinceMs],
  );
  return rows.map((r) => ({ queue: String(r.queue), completed: Number(r.completed), failed: Number(r.failed) }));
}

export async function prune(
  conn: Connection,
  table: string,
  params: { completedOlderThanMs: number | null; failedOlderThanMs: number | null; batchSize?: number },
): Promise<PruneReport> {
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
      `DELETE FROM ${table} WHERE status = 'failed' AND failed_at < UTC_TIMESTAMP(3) - INTERVAL ? MICROSECOND ORDER BY scheduled_at, id LIMIT ?`,
      [params.failedOlderThanMs * 1000],
    );
  }
  await inBatches(`DELETE FROM ${table}_stats WHERE minute < (UNIX_TIMESTAMP() DIV 60) - ? LIMIT ?`, [Math.ceil(THROUGHPUT_KEEP_MS / 60_000)]);
  return report;
}

export async function acquireLease(conn: Connection, table: string, params: { name: string; owner: string; ttlMs: number }): Promise<boolean> {
  // SET runs left to right: expires_at sees the owner just decided. One round trip.
  const [results] = await conn.query<RowDataPacket[][]>(
    `INSERT INTO ${table}_leases (name, owner, expires_at) VALUES (?, ?, UTC_TIMESTAMP(3) + INTERVAL ? MICROSECOND)
       ON DUPLICATE KEY UPDATE
         owner = IF(owner = VALUES(owner) OR expires_at < UTC_TIMESTAMP(3), VALUES(owner), owner),
         expires_at = IF(owner = VALUES(owner), VALUES(expires_at), expires_at);
     SELECT owner FROM ${table}_leases WHERE name = ?`,
    [params.name, params.owner, params.ttlMs * 1000, params.name],
  );
  return String(results[1]?.[0]?.owner) === params.owner;
}

export async function releaseLease(conn: Connection, table: string, params: { name: string; owner: string }): Promise<void> {
  await conn.query(`DELETE FROM ${table}_leases WHERE name = ? AND owner = ?`, [params.name, params.owner]);
}

export function toRecord(r: RowDataPacket): JobRecord {
  return {
    id: Number(r.id),
    handler: r.handler,
    queue: r.queue,
    payload: r.payload,
    status: r.status,
    attempts: Number(r.attempts),
    maxAttempts: Number(r.max_attempts),
    exception: r.exception ?? null,
    createdAt: r.created_at,
    scheduledAt: r.scheduled_at,
    failedAt: r.failed_at ?? null,
    owner: r.owner ?? null,
    interruptions: Number(r.interruptions),
  };
}
