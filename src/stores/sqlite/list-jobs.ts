import { assertJobListSelection, decodePosition, encodePosition, type ListPosition, mergeScans, pageFromScan, scanWindow, segmentsOf } from '../job-list.js';
import type { JobListPage, JobListSelection, JobRecord, ThroughputMinute } from '../store.js';
import type { SqliteDatabase } from './database.js';
import { type JobRow, toRecord } from './rows.js';

// Admin.listJobs and throughputByMinute on SQLite. As on MySQL, each segment of a state is one
// range of jobs_claim_queue (queue, status, priority, scheduled_at, id) in index order from the
// cursor on; a segment with a due condition (scheduled_at <= now, or > now) is a range only
// within one priority, so it is read priority by priority, as a claim does, and no page steps
// over the other side's rows (test/sqlite-list-jobs-plan.test.ts checks the plans at 200k rows).
// Filtering by handler reads a bounded stretch of it and the rows' handler. All reads in one
// transaction, so the segments of one page see one state of the table.

interface Scanned extends ListPosition {
  handler?: string;
}

type Segment = ReturnType<typeof segmentsOf>[number];
type ScanRow = { id: number; priority: number; scheduled_at: number; handler?: string };

/** The SQL of one segment's scan (of one priority when given), exported for the plan test. */
export function segmentSqlite(
  sel: Pick<JobListSelection, 'queue' | 'handler' | 'id'>,
  seg: Segment,
  after: ListPosition | null,
  window: number,
  now: number,
  priority?: number,
): { sql: string; args: unknown[] } {
  const where = ['queue = ?', 'status = ?'];
  const args: unknown[] = [sel.queue, seg.status];
  if (priority !== undefined) {
    where.push('priority = ?');
    args.push(priority);
  }
  // One priority, the cursor in it: the rest of its due range after the cursor.
  const from = after && priority !== undefined && after.priority === priority ? after : null;
  // Two lower bounds of scheduled_at make SQLite skip-scan and sort: give only the tighter one
  // (a cursor past now implies scheduled_at > now; one at or before now is implied by it).
  const dueBound = seg.due === 'past' ? 'scheduled_at <= ?' : seg.due === 'future' && !(from && from.dueMs > now) ? 'scheduled_at > ?' : null;
  if (dueBound) {
    where.push(dueBound);
    args.push(now);
  }
  if (sel.id !== undefined) {
    where.push('id = ?');
    args.push(sel.id);
  }
  if (from && !(seg.due === 'future' && from.dueMs <= now)) {
    where.push('(scheduled_at, id) > (?, ?)');
    args.push(from.dueMs, from.id);
  } else if (after && priority === undefined) {
    where.push('(priority, scheduled_at, id) > (?, ?, ?)');
    args.push(after.priority, after.dueMs, after.id);
  }
  const hint = sel.id !== undefined ? '' : 'INDEXED BY jobs_claim_queue';
  const cols = sel.handler === undefined ? 'id, priority, scheduled_at' : 'id, priority, scheduled_at, handler';
  args.push(window);
  return { sql: `SELECT ${cols} FROM jobs ${hint} WHERE ${where.join(' AND ')} ORDER BY priority, scheduled_at, id LIMIT ?`, args };
}

/** The next priority present in (queue, status) after the one given: one index seek. */
export const NEXT_LIST_PRIORITY = 'SELECT MIN(priority) AS p FROM jobs INDEXED BY jobs_claim_queue WHERE queue = ? AND status = ? AND priority > ?';

export function listJobsSqlite(db: SqliteDatabase, sel: JobListSelection): JobListPage {
  assertJobListSelection(sel);
  const after = decodePosition(sel.after);
  const window = scanWindow(sel);
  const h = db.handle;
  const read = (q: { sql: string; args: unknown[] }): Scanned[] =>
    h
      .prepare<unknown[], ScanRow>(q.sql)
      .all(...q.args)
      .map((r): Scanned => ({ id: r.id, priority: r.priority, dueMs: r.scheduled_at, ...(r.handler !== undefined ? { handler: r.handler } : {}) }));
  const nextPriority = h.prepare<[string, string, number], { p: number | null }>(NEXT_LIST_PRIORITY);
  const scanSegment = (seg: Segment, now: number): Scanned[] => {
    if (!seg.due || sel.id !== undefined) return read(segmentSqlite(sel, seg, after, window, now));
    const out: Scanned[] = [];
    const next = (than: number) => nextPriority.get(sel.queue, seg.status, than)?.p ?? null;
    let priority: number | null = after ? after.priority : next(Number.MIN_SAFE_INTEGER);
    while (priority !== null && out.length < window) {
      out.push(...read(segmentSqlite(sel, seg, after, window - out.length, now, priority)));
      if (out.length < window) priority = next(priority);
    }
    return out;
  };
  return h.transaction(() => {
    const now = Date.now();
    const scans = segmentsOf(sel.state).map((seg) => scanSegment(seg, now));
    const chosen = pageFromScan(
      mergeScans(scans, window),
      window,
      sel.limit,
      (e) => (sel.handler === undefined || e.handler === sel.handler ? ({ id: e.id } as JobRecord) : null),
      encodePosition,
    );
    const get = h.prepare<[number], JobRow>('SELECT * FROM jobs WHERE id = ?');
    const jobs = chosen.jobs
      .map((j) => get.get(j.id))
      .filter((r): r is JobRow => r !== undefined)
      .map(toRecord);
    return { jobs, next: chosen.next };
  })();
}

export function throughputByMinuteSqlite(db: SqliteDatabase, params: { sinceMs: number; queue?: string }): ThroughputMinute[] {
  const from = Math.floor((Date.now() - params.sinceMs) / 60_000);
  const q = params.queue !== undefined;
  return db.handle
    .prepare<unknown[], { minute: number; completed: number; failed: number }>(
      `SELECT minute, SUM(completed) AS completed, SUM(failed) AS failed FROM jobs_stats WHERE minute >= ? ${q ? 'AND queue = ?' : ''} GROUP BY minute ORDER BY minute`,
    )
    .all(...(q ? [from, params.queue] : [from]))
    .map((r) => ({ minuteMs: r.minute * 60_000, completed: r.completed, failed: r.failed }));
}
