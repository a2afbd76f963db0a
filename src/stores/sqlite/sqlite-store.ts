import Database from './driver.js';
import { mkdirSync } from 'node:fs';
import { userInfo } from 'node:os';
import { dirname } from 'node:path';
import { StoreUnavailableError } from '../../errors.js';
import type {
  ClaimedJob,
  FailedPage,
  FailedSelection,
  JobId,
  JobRecord,
  JobResult,
  JobStore,
  MigrationReport,
  NewJob,
  PausedQueue,
  PruneReport,
  QueueCounts,
  QueueThroughput,
  RecoveryReport,
  RuntimeInfo,
  RuntimeRecord,
  RuntimeStats,
} from '../store.js';
import { ADDED_COLUMNS, SCHEMA } from './schema.js';
import { listRuntimes, recoverDead, upsertRuntime } from './registry.js';
import * as ops from './ops.js';

// The embedded default store: one file, shared safely by every process on the host (WAL mode;
// a writer waits for the lock instead of failing). Times are integer ms since the epoch (UTC),
// read from this host's clock, which every process sharing the file also reads.

// SQLite's own limit on one value is 1e9 bytes; stay well below to keep memory sane.
const MAX_PAYLOAD_BYTES = 256 * 1024 * 1024;
const BUSY_TIMEOUT_MS = 10_000;

export class SqliteStore implements JobStore {
  readonly kind = 'sqlite';
  readonly displayUrl: string;
  private readonly db: Database.Database;
  private readonly statements = new Map<string, Database.Statement>();

  constructor(options: { path: string }) {
    this.displayUrl = `sqlite:${options.path}`;
    try {
      if (options.path !== ':memory:') mkdirSync(dirname(options.path), { recursive: true });
      this.db = new Database(options.path, { timeout: BUSY_TIMEOUT_MS });
    } catch (e) {
      // A raw 'unable to open database file' names neither the file nor the usual causes.
      throw new StoreUnavailableError(
        `Cannot open the SQLite file ${options.path} (${(e as Error).message}): its directory must exist or be creatable, and be writable by this user (${userInfo().username})`,
      );
    }
    this.db.pragma('journal_mode = WAL');
    // FULL: a committed claim or result survives a power cut, not only a process kill.
    this.db.pragma('synchronous = FULL');
    // Creating the schema is idempotent and cheap, so the embedded store needs no migrate step.
    this.db.exec(SCHEMA);
    this.addMissingColumns();
  }

  /** In one write transaction: processes opening an old file at once must not both add a column. */
  private addMissingColumns(): void {
    this.db
      .transaction(() => {
        const have = new Set(
          this.db
            .prepare<[], { name: string }>('PRAGMA table_info(jobs)')
            .all()
            .map((c) => c.name),
        );
        for (const [name, ddl] of Object.entries(ADDED_COLUMNS)) {
          if (!have.has(name)) this.db.exec(`ALTER TABLE jobs ADD COLUMN ${name} ${ddl}`);
        }
      })
      .immediate();
  }

  /** Prepared once per SQL text: preparing costs more than running a small claim. */
  private stmt<P extends unknown[] = unknown[], R = unknown>(sql: string): Database.Statement<P, R> {
    let prepared = this.statements.get(sql);
    if (!prepared) {
      prepared = this.db.prepare(sql);
      this.statements.set(sql, prepared);
    }
    return prepared as unknown as Database.Statement<P, R>;
  }

  async maxPayloadBytes(): Promise<number> {
    return MAX_PAYLOAD_BYTES;
  }

  async migrate(params: { dryRun?: boolean }): Promise<MigrationReport> {
    // The constructor already applied the schema; report it for `migrate --print`.
    return { statements: params.dryRun ? [SCHEMA.trim()] : [] };
  }

  async enqueue(params: { jobs: NewJob[] }): Promise<JobId[]> {
    const now = Date.now();
    const insert = this.stmt<unknown[], { id: number }>(
      `INSERT INTO jobs (handler, queue, payload, status, attempts, max_attempts, retry_after_ms, timeout_ms, created_at, scheduled_at)
       VALUES (?, ?, ?, 'new', 0, ?, ?, ?, ?, ?) RETURNING id`,
    );
    // One transaction: a dispatchMany is all or nothing, and costs one commit.
    return this.db
      .transaction((jobs: NewJob[]) =>
        jobs.map((j) => insert.get(j.handler, j.queue, j.payload, j.maxAttempts, j.retryAfterMs, j.timeoutMs, now, now + j.delayMs)!.id),
      )
      .immediate(params.jobs);
  }

  async claim(params: { owner: string; queues: string[] | null; limit: number }): Promise<ClaimedJob[]> {
    const { owner, queues, limit } = params;
    if (limit <= 0) return [];
    const now = Date.now();
    const allQueues = this.stmt<unknown[], ops.JobRow>(
      `UPDATE jobs SET status = 'processing', attempts = attempts + 1, owner = ?, claimed_at = ?
        WHERE id IN (SELECT id FROM jobs INDEXED BY jobs_claim WHERE status = 'new' AND scheduled_at <= ?
                       AND queue NOT IN (SELECT queue FROM jobs_paused)
                     ORDER BY scheduled_at, id LIMIT ?)
        RETURNING *`,
    );
    const oneQueue = this.stmt<unknown[], ops.JobRow>(
      `UPDATE jobs SET status = 'processing', attempts = attempts + 1, owner = ?, claimed_at = ?
        WHERE id IN (SELECT id FROM jobs INDEXED BY jobs_claim_queue WHERE queue = ? AND status = 'new' AND scheduled_at <= ?
                     ORDER BY scheduled_at, id LIMIT ?)
        RETURNING *`,
    );
    // Paused queues (jobs_paused) are never claimed: a named queue that is paused is skipped
    // before its rows are read (SQLite would test a NOT EXISTS on every due row of it); across
    // all queues the NOT IN reads the paused list once and due rows of paused queues are read past.
    const paused = queues === null ? null : this.stmt<[], string>('SELECT queue FROM jobs_paused');
    // IMMEDIATE takes the write lock up front: the claim is atomic against other processes.
    return this.db
      .transaction(() => {
        const claimed: ClaimedJob[] = [];
        const skip = paused?.pluck().all();
        for (const queue of queues ?? [null]) {
          const want = limit - claimed.length;
          if (want <= 0) break;
          if (queue !== null && skip?.includes(queue)) continue;
          const rows = queue === null ? allQueues.all(owner, now, now, want) : oneQueue.all(owner, now, queue, now, want);
          // RETURNING has no defined order: restore the claim order.
          rows.sort((a, b) => a.scheduled_at - b.scheduled_at || a.id - b.id);
          for (const r of rows) claimed.push(toClaimed(r));
        }
        return claimed;
      })
      .immediate();
  }

  async record(params: { owner: string; results: JobResult[]; keepCompleted?: boolean }): Promise<void> {
    const { owner, results } = params;
    if (results.length === 0) return;
    const now = Date.now();
    const keep = params.keepCompleted === true;
    const complete = this.stmt(
      keep
        ? `UPDATE jobs SET status = 'completed', owner = NULL, completed_at = ? WHERE id = ? AND owner = ? AND status = 'processing'`
        : `DELETE FROM jobs WHERE id = ? AND owner = ? AND status = 'processing'`,
    );
    const retry = this.stmt(
      `UPDATE jobs SET status = 'new', owner = NULL, claimed_at = NULL, exception = ?, scheduled_at = ?
        WHERE id = ? AND owner = ? AND status = 'processing'`,
    );
    const fail = this.stmt(
      `UPDATE jobs SET status = 'failed', owner = NULL, claimed_at = NULL, exception = ?, failed_at = ?
        WHERE id = ? AND owner = ? AND status = 'processing'`,
    );
    const count = this.stmt(
      `INSERT INTO jobs_stats (minute, queue, completed, failed) VALUES (?, ?, ?, ?)
        ON CONFLICT (minute, queue) DO UPDATE SET completed = completed + excluded.completed, failed = failed + excluded.failed`,
    );
    this.db
      .transaction(() => {
        // Throughput counters from each statement's changes: only rows this owner still held count.
        const finished = new Map<string, { completed: number; failed: number }>();
        const tally = (queue: string, outcome: 'completed' | 'failed', changes: number) => {
          if (changes === 0) return;
          const c = finished.get(queue) ?? { completed: 0, failed: 0 };
          c[outcome] += changes;
          finished.set(queue, c);
        };
        for (const r of results) {
          if (r.outcome === 'completed') tally(r.queue, 'completed', (keep ? complete.run(now, r.id, owner) : complete.run(r.id, owner)).changes);
          else if (r.outcome === 'retry') retry.run(r.error, now + r.delayMs, r.id, owner);
          else tally(r.queue, 'failed', fail.run(r.error, now, r.id, owner).changes);
        }
        const minute = Math.floor(now / 60_000);
        for (const [queue, c] of finished) count.run(minute, queue, c.completed, c.failed);
      })
      .immediate();
  }

  async release(params: { owner: string; ids: JobId[] }): Promise<number> {
    const stmt = this.stmt(
      `UPDATE jobs SET status = 'new', owner = NULL, claimed_at = NULL, attempts = MAX(attempts - 1, 0)
        WHERE id = ? AND owner = ? AND status = 'processing'`,
    );
    return this.db.transaction(() => params.ids.reduce((n, id) => n + stmt.run(id, params.owner).changes, 0)).immediate();
  }

  async releaseUnheld(params: { owner: string; heldIds: JobId[] }): Promise<number> {
    return this.stmt(
      `UPDATE jobs SET status = 'new', owner = NULL, claimed_at = NULL, attempts = MAX(attempts - 1, 0)
        WHERE owner = ? AND status = 'processing' AND id NOT IN (SELECT value FROM json_each(?))`,
    ).run(params.owner, JSON.stringify(params.heldIds)).changes;
  }

  async counts(params: { queues?: string[] }): Promise<QueueCounts[]> {
    const now = Date.now();
    const queues = params.queues ?? [];
    const filter = queues.length ? `WHERE queue IN (${queues.map(() => '?').join(', ')})` : '';
    const rows = this.db
      .prepare<unknown[], QueueCounts>(
        `SELECT queue,
                COALESCE(SUM(status = 'new' AND scheduled_at <= ?), 0) AS waiting,
                COALESCE(SUM(status = 'new' AND scheduled_at > ?), 0) AS delayed,
                COALESCE(SUM(status = 'processing'), 0) AS processing,
                COALESCE(SUM(status = 'failed'), 0) AS failed
           FROM jobs ${filter} GROUP BY queue ORDER BY queue`,
      )
      .all(now, now, ...queues);
    return rows.map((r) => ({ ...r }));
  }

  async registerRuntime(params: { runtime: RuntimeInfo }): Promise<void> {
    upsertRuntime(this.db, params.runtime, null);
  }

  async heartbeat(params: { runtime: RuntimeInfo; stats: RuntimeStats }): Promise<void> {
    upsertRuntime(this.db, params.runtime, params.stats);
  }

  async deregisterRuntime(params: { id: string }): Promise<void> {
    this.db.prepare('DELETE FROM jobs_runtimes WHERE id = ?').run(params.id);
  }

  async listRuntimes(): Promise<RuntimeRecord[]> {
    return listRuntimes(this.db);
  }

  async recoverDeadRuntimes(params: { deadAfterMs: number; maxInterruptions: number; alsoDead?: string[] }): Promise<RecoveryReport> {
    return recoverDead(this.db, params);
  }

  async getJob(params: { id: JobId }): Promise<JobRecord | null> {
    const r = this.db.prepare<unknown[], ops.JobRow>('SELECT * FROM jobs WHERE id = ?').get(params.id);
    return r ? ops.toRecord(r) : null;
  }

  async listFailed(params: FailedSelection & { limit: number }): Promise<FailedPage> {
    return ops.listFailed(this.db, params);
  }

  async retryFailed(params: FailedSelection): Promise<number> {
    return ops.retryFailed(this.db, params);
  }

  async deleteFailed(params: FailedSelection): Promise<number> {
    return ops.deleteFailed(this.db, params);
  }

  async setQueuePaused(params: { queue: string; paused: boolean }): Promise<boolean> {
    return ops.setQueuePaused(this.db, params);
  }

  async listPausedQueues(): Promise<PausedQueue[]> {
    return ops.listPausedQueues(this.db);
  }

  async throughput(params: { sinceMs: number }): Promise<QueueThroughput[]> {
    return ops.throughput(this.db, params);
  }

  async prune(params: { completedOlderThanMs: number | null; failedOlderThanMs: number | null; batchSize?: number }): Promise<PruneReport> {
    return ops.prune(this.db, params);
  }

  async acquireLease(params: { name: string; owner: string; ttlMs: number }): Promise<boolean> {
    return ops.acquireLease(this.db, params);
  }

  async releaseLease(params: { name: string; owner: string }): Promise<void> {
    ops.releaseLease(this.db, params);
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}

function toClaimed(r: ops.JobRow): ClaimedJob {
  return {
    id: r.id,
    handler: r.handler,
    queue: r.queue,
    payload: r.payload,
    attempts: r.attempts,
    maxAttempts: r.max_attempts,
    retryAfterMs: r.retry_after_ms,
    timeoutMs: r.timeout_ms,
    scheduledAtMs: r.scheduled_at,
  };
}
