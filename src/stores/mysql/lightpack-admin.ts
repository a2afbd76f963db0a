import type { Connection, ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import type { ForeignHandlerQueue, TimeShiftReport } from '../store.js';
import { wallClockToUtcMs } from '../../values/time-zone.js';
import type { ForeignJobs } from './foreign-rows.js';

// The operator's side of sharing the table with Lightpack's PHP workers (foreign-rows.ts):
// what migrate reports about PHP's rows, the one-off time-zone shift, the queues PHP uses.

/** Rows PHP wrote: a PHP class name, or a PHP queue. Parameters: phpRowArgs. */
function phpRowSql(f: ForeignJobs): string {
  return `(INSTR(handler, CHAR(92)) > 0${f.queues.length > 0 ? ' OR queue IN (?)' : ''})`;
}
function phpRowArgs(f: ForeignJobs): unknown[] {
  return f.queues.length > 0 ? [f.queues] : [];
}

/**
 * Rows in status 'queued' (Lightpack's worker runs them now, or died running them): reported,
 * or given back to run again on `requeueQueues` only, since a PHP worker may be running them.
 */
export async function queuedRows(conn: Connection, table: string, f: ForeignJobs, requeueQueues: string[] | null): Promise<string[]> {
  let rows: RowDataPacket[];
  try {
    [rows] = await conn.query<RowDataPacket[]>(`SELECT queue, COUNT(*) AS n FROM ${table} WHERE status = 'queued' GROUP BY queue ORDER BY queue`);
  } catch (e) {
    if ((e as { errno?: number }).errno === 1146) return []; // no table yet
    throw e;
  }
  if (rows.length === 0) return [];
  const list = rows.map((r) => `${r.queue} ${Number(r.n)}`).join(', ');
  const n = rows.reduce((s, r) => s + Number(r.n), 0);
  if (requeueQueues) {
    const [res] = await conn.query<ResultSetHeader>(
      `UPDATE ${table} SET status = 'new', attempts = GREATEST(attempts - 1, 0) WHERE status = 'queued' AND queue IN (?)`,
      [requeueQueues],
    );
    return [
      `Gave back ${res.affectedRows} job(s) in status 'queued' on ${requeueQueues.join(', ')}: they run again, not charged an attempt ` +
        '(any a PHP worker was running at this moment run twice)',
    ];
  }
  if (f.queues.length > 0) {
    return [`${n} job(s) are in status 'queued' (${list}): Lightpack's PHP workers are running them; jobs-runtime never takes them`];
  }
  return [
    `${n} job(s) are in status 'queued' (${list}): a Lightpack (PHP) worker is running them, or died running them; jobs-runtime never takes them. ` +
      'If no PHP worker runs those queues any more, `jobs-runtime migrate --requeue-queued --queue <names>` gives them back to run again ' +
      '(not charged an attempt; a job a PHP worker is running at that moment would run twice)',
  ];
}

/**
 * After migrate, queue names compare byte for byte (utf8mb4_bin): says so when this run makes
 * the change, and lists queues whose names differ only by case (a worker started with
 * --queue=PHP no longer takes the rows of 'php').
 */
export async function queueCaseNotices(conn: Connection, table: string, statements: string[]): Promise<string[]> {
  const notices: string[] = [];
  if (statements.some((s) => /MODIFY COLUMN queue /.test(s))) {
    notices.push(
      "Queue names become case-sensitive (utf8mb4_bin): 'php' and 'PHP' are two queues from now on, for jobs-runtime and for PHP workers " +
        '(a `jobs:run --queue=PHP` worker no longer takes the rows of queue php)',
    );
  }
  let rows: RowDataPacket[];
  try {
    [rows] = await conn.query<RowDataPacket[]>(`SELECT CAST(queue AS BINARY) AS q, COUNT(*) AS n FROM ${table} GROUP BY CAST(queue AS BINARY)`);
  } catch (e) {
    if ((e as { errno?: number }).errno === 1146) return notices;
    throw e;
  }
  const byLower = new Map<string, string[]>();
  for (const r of rows) {
    const name = Buffer.from(r.q as Buffer).toString('utf8');
    const key = name.toLowerCase();
    byLower.set(key, [...(byLower.get(key) ?? []), `${name} (${Number(r.n)})`]);
  }
  const clashes = [...byLower.values()].filter((names) => names.length > 1);
  if (clashes.length > 0) {
    notices.push(`Queues whose names differ only by case, now separate queues: ${clashes.map((c) => c.sort().join(' / ')).join('; ')}`);
  }
  return notices;
}

/** Queues holding rows whose handler is a PHP class name, with a count and an example. */
export async function foreignHandlerQueues(conn: Connection, table: string): Promise<ForeignHandlerQueue[]> {
  // A scan of the table, once per `start` without --queue and without a Lightpack setting.
  const [rows] = await conn.query<RowDataPacket[]>(
    `SELECT queue, COUNT(*) AS n, MIN(handler) AS example FROM ${table} WHERE INSTR(handler, CHAR(92)) > 0 GROUP BY queue ORDER BY queue`,
  );
  return rows.map((r) => ({ queue: String(r.queue), jobs: Number(r.n), example: String(r.example) }));
}

/**
 * Waiting rows PHP wrote in `zone`'s wall clock (Lightpack up to v0.8.2) moved to UTC. Only
 * status 'new': running, failed and finished rows keep their times. `dryRun`: the plan only.
 */
export async function shiftWaitingTimes(conn: Connection, table: string, f: ForeignJobs, zone: string, dryRun: boolean): Promise<TimeShiftReport> {
  const [rows] = await conn.query<RowDataPacket[]>(
    `SELECT id, queue, scheduled_at FROM ${table} WHERE status = 'new' AND ${phpRowSql(f)} ORDER BY id`,
    phpRowArgs(f),
  );
  const byShift = new Map<number, number[]>();
  const queues = new Map<string, TimeShiftReport['queues'][number]>();
  for (const r of rows) {
    const wall = (r.scheduled_at as Date).getTime();
    const utc = wallClockToUtcMs(zone, wall);
    const shift = wall - utc;
    byShift.set(shift, [...(byShift.get(shift) ?? []), Number(r.id)]);
    const q = queues.get(String(r.queue)) ?? {
      queue: String(r.queue),
      rows: 0,
      first: { from: new Date(wall), to: new Date(utc) },
      last: { from: new Date(wall), to: new Date(utc) },
    };
    q.rows++;
    if (wall < q.first.from.getTime()) q.first = { from: new Date(wall), to: new Date(utc) };
    if (wall > q.last.from.getTime()) q.last = { from: new Date(wall), to: new Date(utc) };
    queues.set(q.queue, q);
  }
  let shifted = 0;
  if (!dryRun) {
    for (const [shift, ids] of byShift) {
      for (let i = 0; i < ids.length; i += 500) {
        const [res] = await conn.query<ResultSetHeader>(
          `UPDATE ${table} SET scheduled_at = scheduled_at - INTERVAL ? MICROSECOND WHERE id IN (?) AND status = 'new'`,
          [shift * 1000, ids.slice(i, i + 500)],
        );
        shifted += res.affectedRows;
      }
    }
  }
  return { zone, rows: rows.length, shifted, shiftsMs: [...byShift.keys()], queues: [...queues.values()] };
}
