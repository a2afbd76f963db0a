import type { Connection, RowDataPacket } from 'mysql2/promise';
import { assertJobListSelection, decodePosition, encodePosition, type ListPosition, mergeScans, pageFromScan, scanWindow, segmentsOf } from '../job-list.js';
import type { JobListPage, JobListSelection, JobRecord } from '../store.js';
import { toRecord } from './rows.js';
import type { MySqlDatabase } from './database.js';

// Admin.listJobs on MySQL. Each segment of a state is one range of jobs_claim_queue
// (queue, status, priority, scheduled_at, id) read in index order from the cursor on, LIMIT the
// page (index-only: every column read is in the index), or, filtering by handler, a bounded
// stretch of it joined to the rows for their handler. The page's rows are then read by id.
// The keyset condition is spelled out (no row constructor): MariaDB turns ORs into ranges.

interface Scanned extends ListPosition {
  handler?: string;
}

export async function listJobsMysql(db: MySqlDatabase, sel: JobListSelection): Promise<JobListPage> {
  assertJobListSelection(sel);
  const after = decodePosition(sel.after);
  const window = scanWindow(sel);
  return db.run(async (conn) => {
    const scans: Scanned[][] = [];
    for (const seg of segmentsOf(sel.state)) scans.push(await scanSegment(conn, db.table, sel, seg, after, window));
    const scan = mergeScans(scans, window);
    const chosen = pageFromScan(
      scan,
      window,
      sel.limit,
      (e) => (sel.handler === undefined || e.handler === sel.handler ? ({ id: e.id } as JobRecord) : null),
      encodePosition,
    );
    if (chosen.jobs.length === 0) return chosen;
    const [rows] = await conn.query<RowDataPacket[]>(`SELECT * FROM ${db.table} WHERE id IN (?)`, [chosen.jobs.map((j) => j.id)]);
    const byId = new Map(rows.map((r) => [Number(r.id), toRecord(r)]));
    return { jobs: chosen.jobs.map((j) => byId.get(j.id)).filter((j): j is JobRecord => j !== undefined), next: chosen.next };
  });
}

/** The SQL of one segment's scan, exported for the EXPLAIN test. */
export function segmentSql(
  table: string,
  sel: Pick<JobListSelection, 'queue' | 'handler' | 'id'>,
  seg: ReturnType<typeof segmentsOf>[number],
  after: ListPosition | null,
  window: number,
  priority?: number,
): { sql: string; args: unknown[] } {
  const where = ['queue = ?', 'status = ?'];
  const args: unknown[] = [sel.queue, seg.status];
  if (priority !== undefined) {
    where.push('priority = ?');
    args.push(priority);
  }
  if (seg.due === 'past') where.push('scheduled_at <= UTC_TIMESTAMP(3)');
  if (seg.due === 'future') where.push('scheduled_at > UTC_TIMESTAMP(3)');
  if (sel.id !== undefined) {
    where.push('id = ?');
    args.push(sel.id);
  }
  if (after && priority !== undefined) {
    // One priority: the rest of its due range, (scheduled_at, id) after the cursor.
    if (after.priority === priority) {
      const at = new Date(after.dueMs);
      where.push('(scheduled_at > ? OR (scheduled_at = ? AND id > ?))');
      args.push(at, at, after.id);
    }
  } else if (after) {
    const at = new Date(after.dueMs);
    where.push('(priority > ? OR (priority = ? AND (scheduled_at > ? OR (scheduled_at = ? AND id > ?))))');
    args.push(after.priority, after.priority, at, at, after.id);
  }
  // By id, the primary key finds it; otherwise the claim index, in its order.
  const hint = sel.id !== undefined ? '' : 'FORCE INDEX (jobs_claim_queue)';
  const inner = `SELECT id, priority, scheduled_at FROM ${table} ${hint} WHERE ${where.join(' AND ')} ORDER BY priority, scheduled_at, id LIMIT ?`;
  args.push(window);
  if (sel.handler === undefined) return { sql: inner, args };
  return {
    sql: `SELECT s.id, s.priority, s.scheduled_at, j.handler FROM (${inner}) s JOIN ${table} j ON j.id = s.id ORDER BY s.priority, s.scheduled_at, s.id`,
    args,
  };
}

async function scanSegment(
  conn: Connection,
  table: string,
  sel: JobListSelection,
  seg: ReturnType<typeof segmentsOf>[number],
  after: ListPosition | null,
  window: number,
): Promise<Scanned[]> {
  if (!seg.due || sel.id !== undefined) return read(conn, segmentSql(table, sel, seg, after, window));
  // A due condition (scheduled_at <= now, or > now) is a range only within one priority: read
  // priority by priority, as a claim does, so no page steps over the other side's rows.
  const out: Scanned[] = [];
  let priority: number | null = after ? after.priority : await nextPriority(conn, table, sel.queue, seg.status, null);
  while (priority !== null && out.length < window) {
    out.push(...(await read(conn, segmentSql(table, sel, seg, after, window - out.length, priority))));
    if (out.length < window) priority = await nextPriority(conn, table, sel.queue, seg.status, priority);
  }
  return out;
}

/** The next priority present in (queue, status) after `than`: one index lookup. */
export function nextPrioritySql(table: string, from: boolean): string {
  return `SELECT MIN(priority) AS p FROM ${table} FORCE INDEX (jobs_claim_queue) WHERE queue = ? AND status = ?${from ? ' AND priority > ?' : ''}`;
}

async function nextPriority(conn: Connection, table: string, queue: string, status: string, than: number | null): Promise<number | null> {
  const [rows] = await conn.query<RowDataPacket[]>(nextPrioritySql(table, than !== null), than === null ? [queue, status] : [queue, status, than]);
  const p = rows[0]?.p;
  return p === null || p === undefined ? null : Number(p);
}

async function read(conn: Connection, q: { sql: string; args: unknown[] }): Promise<Scanned[]> {
  const [rows] = await conn.query<RowDataPacket[]>(q.sql, q.args);
  return rows.map((r) => ({
    id: Number(r.id),
    priority: Number(r.priority),
    dueMs: (r.scheduled_at as Date).getTime(),
    ...(r.handler !== undefined ? { handler: String(r.handler) } : {}),
  }));
}
