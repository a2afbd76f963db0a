import { assertJobListSelection, decodePosition, encodePosition, type ListPosition, mergeScans, pageFromScan, scanWindow, segmentsOf } from '../job-list.js';
import type { JobListPage, JobListSelection, JobRecord, ThroughputMinute } from '../store.js';
import type { SqliteDatabase } from './database.js';
import { type JobRow, toRecord } from './rows.js';

// Admin.listJobs and throughputByMinute on SQLite. As on MySQL, each segment of a state is one
// range of jobs_claim_queue (queue, status, priority, scheduled_at, id) in index order from the
// cursor on (test/sqlite-claim-plan.test.ts has the style of checking a plan); filtering by
// handler reads a bounded stretch of it and the rows' handler. All reads in one transaction,
// so the segments of one page see one state of the table.

interface Scanned extends ListPosition {
  handler?: string;
}

export function segmentSqlite(
  sel: Pick<JobListSelection, 'queue' | 'handler' | 'id'>,
  seg: ReturnType<typeof segmentsOf>[number],
  after: ListPosition | null,
  window: number,
  now: number,
): { sql: string; args: unknown[] } {
  const where = ['queue = ?', 'status = ?'];
  const args: unknown[] = [sel.queue, seg.status];
  if (seg.due === 'past') where.push('scheduled_at <= ?');
  if (seg.due === 'future') where.push('scheduled_at > ?');
  if (seg.due) args.push(now);
  if (sel.id !== undefined) {
    where.push('id = ?');
    args.push(sel.id);
  }
  if (after) {
    where.push('(priority, scheduled_at, id) > (?, ?, ?)');
    args.push(after.priority, after.dueMs, after.id);
  }
  const hint = sel.id !== undefined ? '' : 'INDEXED BY jobs_claim_queue';
  const cols = sel.handler === undefined ? 'id, priority, scheduled_at' : 'id, priority, scheduled_at, handler';
  args.push(window);
  return { sql: `SELECT ${cols} FROM jobs ${hint} WHERE ${where.join(' AND ')} ORDER BY priority, scheduled_at, id LIMIT ?`, args };
}

export function listJobsSqlite(db: SqliteDatabase, sel: JobListSelection): JobListPage {
  assertJobListSelection(sel);
  const after = decodePosition(sel.after);
  const window = scanWindow(sel);
  const h = db.handle;
  return h.transaction(() => {
    const now = Date.now();
    const scans = segmentsOf(sel.state).map((seg) => {
      const { sql, args } = segmentSqlite(sel, seg, after, window, now);
      return h
        .prepare<unknown[], { id: number; priority: number; scheduled_at: number; handler?: string }>(sql)
        .all(...args)
        .map((r): Scanned => ({ id: r.id, priority: r.priority, dueMs: r.scheduled_at, ...(r.handler !== undefined ? { handler: r.handler } : {}) }));
    });
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
