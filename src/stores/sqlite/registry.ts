import type Database from 'better-sqlite3';
import type { NewJob, RecoveryReport, Registry, RuntimeInfo, RuntimeRecord, RuntimeStats, ScheduleDefinition, ScheduleRecord, TickOutcome } from '../store.js';
import type { SqliteDatabase } from './database.js';
import { insertRecoveryEvents } from './outcomes.js';
import { freeSlots } from './flow-limits.js';
import type { SqliteSchedules } from './schedules.js';

// The runtime registry and crash recovery, SQLite dialect. All processes sharing the file run
// on one host, so its clock is the one clock. Each recovery is one IMMEDIATE transaction: only
// one process at a time can be inside it, so a dead runtime is recovered exactly once.

/** Runtimes and their heartbeats, crash recovery, leases. */
export class SqliteRegistry implements Registry {
  constructor(
    private readonly db: SqliteDatabase,
    private readonly schedules: SqliteSchedules,
  ) {}

  async registerRuntime(params: { runtime: RuntimeInfo }): Promise<void> {
    upsertRuntime(this.db.handle, params.runtime, null);
  }

  async heartbeat(params: { runtime: RuntimeInfo; stats: RuntimeStats; timeoutMs: number }): Promise<{ wasRegistered: boolean }> {
    // One host, one file: a beat waits at most the busy timeout for the write lock.
    const db = this.db.handle;
    return db
      .transaction(() => {
        const wasRegistered = db.prepare('SELECT 1 FROM jobs_runtimes WHERE id = ?').get(params.runtime.id) !== undefined;
        upsertRuntime(db, params.runtime, params.stats);
        return { wasRegistered };
      })
      .immediate();
  }

  async deregisterRuntime(params: { id: string }): Promise<void> {
    // Its schedule declarations go with it: a static schedule no runtime declares stops.
    const db = this.db.handle;
    db.transaction(() => dropRuntime(db, params.id)).immediate();
  }

  async listRuntimes(_params: Record<string, never> = {}): Promise<RuntimeRecord[]> {
    const db = this.db.handle;
    const now = Date.now();
    return db
      .prepare<[], RuntimeRow>('SELECT * FROM jobs_runtimes ORDER BY started_at, id')
      .all()
      .map((r) => ({
        id: r.id,
        host: r.host,
        pid: r.pid,
        queues: r.queues === null ? null : r.queues.split(','),
        threads: r.threads,
        slots: r.slots ?? r.threads,
        wakeAddress: null, // one host: the same-host wake-up reaches every runtime
        startedAt: new Date(r.started_at),
        heartbeatAt: new Date(r.heartbeat_at),
        silentForMs: now - r.heartbeat_at,
        cpuPercent: r.cpu_percent,
        rssBytes: r.rss_bytes,
        jobsDone: r.jobs_done,
        jobsFailed: r.jobs_failed,
        busyThreads: r.busy_threads,
      }));
  }

  async recoverDeadRuntimes(params: { deadAfterMs: number; maxInterruptions: number; alsoDead?: string[]; keepOutcomes?: boolean }): Promise<RecoveryReport> {
    const db = this.db.handle;
    return db
      .transaction((): RecoveryReport => {
        const cutoff = Date.now() - params.deadAfterMs;
        const also = params.alsoDead ?? [];
        const dead = db
          .prepare<unknown[], { id: string }>(`SELECT id FROM jobs_runtimes WHERE heartbeat_at < ? OR id IN (SELECT value FROM json_each(?))`)
          .all(cutoff, JSON.stringify(also))
          .map((r) => r.id);
        const report: RecoveryReport = { runtimes: dead, released: 0, failed: 0 };
        for (const id of dead) {
          const counts = giveBack(this.db, 'owner = ?', [id], params.maxInterruptions, params.keepOutcomes === true);
          report.failed += counts.failed;
          report.released += counts.released;
          dropRuntime(db, id);
        }
        return report;
      })
      .immediate();
  }

  async sweepOrphans(params: { deadAfterMs: number; maxInterruptions: number; keepOutcomes?: boolean }): Promise<{ released: number; failed: number }> {
    // One writer at a time holds the file, so there are no row locks to storm: one transaction.
    const db = this.db.handle;
    const where = 'claimed_at < ? AND (owner IS NULL OR owner NOT IN (SELECT id FROM jobs_runtimes))';
    return db.transaction(() => giveBack(this.db, where, [Date.now() - params.deadAfterMs], params.maxInterruptions, params.keepOutcomes === true)).immediate();
  }

  async acquireLease(params: { name: string; owner: string; ttlMs: number }): Promise<boolean> {
    const db = this.db.handle;
    const now = Date.now();
    return db
      .transaction(() => {
        db.prepare(
          `INSERT INTO jobs_leases (name, owner, expires_at) VALUES (?, ?, ?)
         ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at
         WHERE jobs_leases.owner = excluded.owner OR jobs_leases.expires_at < ?`,
        ).run(params.name, params.owner, now + params.ttlMs, now);
        return db.prepare<[string], { owner: string }>('SELECT owner FROM jobs_leases WHERE name = ?').get(params.name)?.owner === params.owner;
      })
      .immediate();
  }

  async declareSchedules(params: { runtimeId: string; schedules: ScheduleDefinition[] }): Promise<void> {
    this.schedules.declare(params.runtimeId, params.schedules);
  }

  async activeSchedules(_params: Record<string, never> = {}): Promise<{ nowMs: number; schedules: ScheduleRecord[] }> {
    return this.schedules.active();
  }

  async enqueueTick(params: { key: string; tickAtMs: number; job: NewJob }): Promise<TickOutcome> {
    return this.schedules.enqueueTick(params.key, params.tickAtMs, params.job);
  }

  async releaseLease(params: { name: string; owner: string }): Promise<void> {
    const db = this.db.handle;
    db.prepare('DELETE FROM jobs_leases WHERE name = ? AND owner = ?').run(params.name, params.owner);
  }
}

interface RuntimeRow {
  id: string;
  host: string;
  pid: number;
  queues: string | null;
  threads: number;
  slots: number | null;
  started_at: number;
  heartbeat_at: number;
  cpu_percent: number;
  rss_bytes: number;
  jobs_done: number;
  jobs_failed: number;
  busy_threads: number;
}

/**
 * Fails the jobs matching `where` that this interruption makes one too many (their unique key
 * released), gives back the rest (keeping it); both free their concurrency slots.
 */
function giveBack(sdb: SqliteDatabase, where: string, args: unknown[], maxInterruptions: number, keepOutcomes: boolean): { released: number; failed: number } {
  const db = sdb.handle;
  // The events first, while the rows still say who ran them and which attempt it was.
  if (keepOutcomes) insertRecoveryEvents(sdb, where, args, maxInterruptions, Date.now());
  type Ended = { concurrency_key: string | null };
  const failed = db
    .prepare<unknown[], Ended>(
      `UPDATE jobs SET status = 'failed', failed_at = ?, owner = NULL, claimed_at = NULL, interruptions = interruptions + 1, unique_key = NULL,
         exception = 'Interrupted ' || (interruptions + 1) || ' times: the runtime running it died each time (more than the ' || CAST(? AS INTEGER) || ' allowed), so it is failed as a likely cause'
       WHERE status = 'processing' AND interruptions + 1 > ? AND ${where} RETURNING concurrency_key`,
    )
    .all(Date.now(), maxInterruptions, maxInterruptions, ...args);
  const released = db
    .prepare<unknown[], Ended>(
      `UPDATE jobs SET status = 'new', owner = NULL, claimed_at = NULL, attempts = MAX(attempts - 1, 0), interruptions = interruptions + 1
       WHERE status = 'processing' AND ${where} RETURNING concurrency_key`,
    )
    .all(...args);
  freeSlots(
    sdb,
    [...failed, ...released].map((e) => e.concurrency_key),
  );
  return { released: released.length, failed: failed.length };
}

/** A runtime's registry row and its schedule declarations, in the caller's transaction. */
function dropRuntime(db: Database.Database, id: string): void {
  db.prepare('DELETE FROM jobs_runtimes WHERE id = ?').run(id);
  db.prepare('DELETE FROM jobs_schedule_declarations WHERE runtime_id = ?').run(id);
}

function upsertRuntime(db: Database.Database, runtime: RuntimeInfo, stats: RuntimeStats | null): void {
  const s = stats ?? { cpuPercent: 0, rssBytes: 0, jobsDone: 0, jobsFailed: 0, busyThreads: 0 };
  const now = Date.now();
  db.prepare(
    `INSERT INTO jobs_runtimes (id, host, pid, queues, threads, slots, started_at, heartbeat_at, cpu_percent, rss_bytes, jobs_done, jobs_failed, busy_threads)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at, cpu_percent = excluded.cpu_percent, rss_bytes = excluded.rss_bytes,
       jobs_done = excluded.jobs_done, jobs_failed = excluded.jobs_failed, busy_threads = excluded.busy_threads`,
  ).run(
    runtime.id,
    runtime.host,
    runtime.pid,
    runtime.queues ? runtime.queues.join(',') : null,
    runtime.threads,
    runtime.slots ?? runtime.threads,
    now,
    now,
    s.cpuPercent,
    s.rssBytes,
    s.jobsDone,
    s.jobsFailed,
    s.busyThreads,
  );
}
