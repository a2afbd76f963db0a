import type Database from 'better-sqlite3';
import {
  OPS_BATCH,
  THROUGHPUT_KEEP_MS,
  type Admin,
  type FailedPage,
  type FailedSelection,
  type JobId,
  type JobListPage,
  type JobListSelection,
  type JobRecord,
  type MigrationReport,
  type PausedQueue,
  type PruneReport,
  type QueueCounts,
  type QueueThroughput,
  type ScheduleRecord,
  type ThroughputMinute,
} from '../store.js';

// Operators' role, SQLite dialect: the schema, counts, failed jobs, paused queues, throughput
// counters and pruning. Bulk changes go in transactions of OPS_BATCH rows, so the write lock is never held
// long and claims of other processes slip in between. Times are this host's clock, in ms.

import type { SqliteDatabase } from './database.js';
import { INDEXES, indexDdl, SCHEMA } from './schema.js';
import { toRecord, type JobRow } from './rows.js';
import type { SqliteSchedules } from './schedules.js';
import { listJobsSqlite, throughputByMinuteSqlite } from './list-jobs.js';

export class SqliteAdmin implements Admin {
  constructor(
    private readonly db: SqliteDatabase,
    private readonly schedules: SqliteSchedules,
  ) {}

  async listSchedules(_params: Record<string, never> = {}): Promise<ScheduleRecord[]> {
    return this.schedules.list();
  }

  async removeUndeclaredSchedule(params: { key: string }): Promise<{ removed: boolean; declaredBy: string[] }> {
    return this.schedules.removeUndeclared(params.key);
  }

  async migrate(params: { dryRun?: boolean }): Promise<MigrationReport> {
    // The constructor already applied the schema; report it for `migrate --print`.
    return { statements: params.dryRun ? [SCHEMA.trim(), ...Object.keys(INDEXES).map(indexDdl)] : [] };
  }

  async counts(params: { queues?: string[] }): Promise<QueueCounts[]> {
    const now = Date.now();
    const queues = params.queues ?? [];
    const filter = queues.length ? `WHERE queue IN (${queues.map(() => '?').join(', ')})` : '';
    // Blocked jobs are due (they wait for a slot): in `waiting`, and in concurrencyLimited.
    const rows = this.db.handle
      .prepare<unknown[], Required<QueueCounts>>(
        `SELECT queue,
                COALESCE(SUM((status = 'new' AND scheduled_at <= ?) OR status = 'blocked'), 0) AS waiting,
                COALESCE(SUM(status = 'new' AND scheduled_at > ?), 0) AS delayed,
                COALESCE(SUM(status = 'processing'), 0) AS processing,
                COALESCE(SUM(status = 'failed'), 0) AS failed,
                COALESCE(SUM(status = 'blocked'), 0) AS concurrencyLimited,
                COALESCE(SUM(status = 'new' AND scheduled_at > ? AND rate_deferred = 1), 0) AS rateLimited
           FROM jobs ${filter} GROUP BY queue ORDER BY queue`,
      )
      .all(now, now, now, ...queues);
    // The limit counts only where jobs are held back: a queue without limits reads as before.
    return rows.map(({ concurrencyLimited, rateLimited, ...r }) => ({
      ...r,
      ...(concurrencyLimited ? { concurrencyLimited } : {}),
      ...(rateLimited ? { rateLimited } : {}),
    }));
  }

  async getJob(params: { id: JobId }): Promise<JobRecord | null> {
    const r = this.db.handle.prepare<unknown[], JobRow>('SELECT * FROM jobs WHERE id = ?').get(params.id);
    return r ? toRecord(r) : null;
  }

  async listFailed(params: FailedSelection & { limit: number }): Promise<FailedPage> {
    const db = this.db.handle;
    const w = failedWhere(params, Date.now());
    if (!w) return { jobs: [], total: 0 };
    return db.transaction(() => {
      const rows = db.prepare<unknown[], JobRow>(`SELECT * FROM jobs WHERE ${w.where} ORDER BY failed_at DESC, id DESC LIMIT ?`).all(...w.args, params.limit);
      const total = db.prepare<unknown[], { n: number }>(`SELECT COUNT(*) AS n FROM jobs WHERE ${w.where}`).get(...w.args)!.n;
      return { jobs: rows.map(toRecord), total };
    })();
  }

  async retryFailed(sel: FailedSelection): Promise<number> {
    const db = this.db.handle;
    return eachFailedBatch(
      db,
      sel,
      `UPDATE jobs SET status = 'new', attempts = 0, interruptions = 0, failed_at = NULL, owner = NULL, claimed_at = NULL, scheduled_at = ?`,
      (now) => [now],
    );
  }

  async deleteFailed(sel: FailedSelection): Promise<number> {
    const db = this.db.handle;
    return eachFailedBatch(db, sel, 'DELETE FROM jobs', () => []);
  }

  async setQueuePaused(params: { queue: string; paused: boolean }): Promise<boolean> {
    const db = this.db.handle;
    const res = params.paused
      ? db.prepare('INSERT OR IGNORE INTO jobs_paused (queue, paused_at) VALUES (?, ?)').run(params.queue, Date.now())
      : db.prepare('DELETE FROM jobs_paused WHERE queue = ?').run(params.queue);
    return res.changes > 0;
  }

  async listPausedQueues(_params: Record<string, never> = {}): Promise<PausedQueue[]> {
    const db = this.db.handle;
    return db
      .prepare<[], { queue: string; paused_at: number }>('SELECT queue, paused_at FROM jobs_paused ORDER BY queue')
      .all()
      .map((r) => ({ queue: r.queue, pausedAt: new Date(r.paused_at) }));
  }

  async throughput(params: { sinceMs: number }): Promise<QueueThroughput[]> {
    const db = this.db.handle;
    const from = Math.floor((Date.now() - params.sinceMs) / 60_000);
    return db
      .prepare<[number], QueueThroughput>(
        'SELECT queue, SUM(completed) AS completed, SUM(failed) AS failed FROM jobs_stats WHERE minute >= ? GROUP BY queue ORDER BY queue',
      )
      .all(from)
      .map((r) => ({ ...r }));
  }

  async throughputByMinute(params: { sinceMs: number; queue?: string }): Promise<ThroughputMinute[]> {
    return throughputByMinuteSqlite(this.db, params);
  }

  async listJobs(params: JobListSelection): Promise<JobListPage> {
    return listJobsSqlite(this.db, params);
  }

  async prune(params: {
    completedOlderThanMs: number | null;
    failedOlderThanMs: number | null;
    outcomesOlderThanMs?: number | null;
    batchSize?: number;
  }): Promise<PruneReport> {
    const db = this.db.handle;
    const batch = params.batchSize ?? OPS_BATCH;
    // One short write transaction per batch: claims of other processes get the lock in between.
    const inBatches = (sql: string, arg: number): number => {
      const stmt = db.prepare(sql);
      let total = 0;
      for (;;) {
        const n = stmt.run(arg, batch).changes;
        total += n;
        if (n < batch) return total;
      }
    };
    const now = Date.now();
    const report: PruneReport = { completed: 0, failed: 0 };
    if (params.completedOlderThanMs !== null) {
      report.completed = inBatches(
        `DELETE FROM jobs WHERE id IN (SELECT id FROM jobs INDEXED BY jobs_claim WHERE status = 'completed'
         AND COALESCE(completed_at, claimed_at, scheduled_at) < ? ORDER BY priority, scheduled_at, id LIMIT ?)`,
        now - params.completedOlderThanMs,
      );
    }
    if (params.failedOlderThanMs !== null) {
      report.failed = inBatches(
        `DELETE FROM jobs WHERE id IN (SELECT id FROM jobs INDEXED BY jobs_claim WHERE status = 'failed' AND failed_at < ?
         ORDER BY priority, scheduled_at, id LIMIT ?)`,
        now - params.failedOlderThanMs,
      );
    }
    if (params.outcomesOlderThanMs != null) {
      report.outcomes = inBatches(
        'DELETE FROM jobs_outcomes WHERE seq IN (SELECT seq FROM jobs_outcomes INDEXED BY jobs_outcomes_at WHERE at < ? ORDER BY at LIMIT ?)',
        now - params.outcomesOlderThanMs,
      );
    }
    inBatches(
      'DELETE FROM jobs_stats WHERE (minute, queue) IN (SELECT minute, queue FROM jobs_stats WHERE minute < ? LIMIT ?)',
      Math.floor((now - THROUGHPUT_KEEP_MS) / 60_000),
    );
    return report;
  }
}

function failedWhere(sel: FailedSelection, now: number): { where: string; args: unknown[] } | null {
  if (sel.ids && sel.ids.length === 0) return null;
  const parts = ["status = 'failed'"];
  const args: unknown[] = [];
  if (sel.ids) {
    parts.push('id IN (SELECT value FROM json_each(?))');
    args.push(JSON.stringify(sel.ids));
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
    parts.push('failed_at < ?');
    args.push(now - sel.olderThanMs);
  }
  return { where: parts.join(' AND '), args };
}

/** Applies `change` to matching failed rows, OPS_BATCH per transaction, in id order. */
function eachFailedBatch(db: Database.Database, sel: FailedSelection, change: string, changeArgs: (now: number) => unknown[]): number {
  let total = 0;
  const batches = sel.ids ? chunk(sel.ids, OPS_BATCH) : [null];
  for (const ids of batches) {
    // A cursor on id: a retried job that fails again meanwhile is not taken twice.
    for (let after = 0; ; ) {
      const done = db
        .transaction((): number | null => {
          const now = Date.now();
          const w = failedWhere(ids ? { ...sel, ids } : sel, now)!;
          const found = db
            .prepare<unknown[], { id: JobId }>(`SELECT id FROM jobs WHERE ${w.where} AND id > ? ORDER BY id LIMIT ?`)
            .all(...w.args, after, OPS_BATCH)
            .map((r) => r.id);
          if (found.length === 0) return null;
          after = found[found.length - 1]!;
          return db.prepare(`${change} WHERE status = 'failed' AND id IN (SELECT value FROM json_each(?))`).run(...changeArgs(now), JSON.stringify(found))
            .changes;
        })
        .immediate();
      if (done === null) break;
      total += done;
    }
  }
  return total;
}

function chunk<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
