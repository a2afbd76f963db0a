import type { ScheduleDefinition, ScheduleRecord, NewJob, TickOutcome } from '../store.js';
import {
  dynamicKeyError,
  encodeScheduleJob,
  sameDefinition,
  staticKeyError,
  TICK_KEEP_MS,
  tickJob,
  toScheduleRecord,
  type StoredSchedule,
} from '../schedule-rows.js';
import type { SqliteDatabase } from './database.js';
import type { SqliteProducer } from './producer.js';

// Recurring schedules, SQLite dialect: every write is one IMMEDIATE transaction, so only one
// process at a time is inside it and a tick's (key, tick_at) row is written once. Times are
// this host's clock (the one clock of every process sharing the file), in ms.

interface ScheduleRow {
  key: string;
  kind: string;
  cron: string;
  tz: string;
  misfire: string;
  job: string;
  last_tick_at: number | null;
  last_job_id: number | null;
  updated_at: number;
  declared_by: string | null;
}

/** A static schedule applies while a registered runtime declares it. */
const DECLARERS = 'FROM jobs_schedule_declarations d JOIN jobs_runtimes r ON r.id = d.runtime_id WHERE d.key = s.key';
const SELECT = `SELECT s.*, (SELECT json_group_array(d.runtime_id) ${DECLARERS}) AS declared_by FROM jobs_schedules s`;

export class SqliteSchedules {
  constructor(
    private readonly db: SqliteDatabase,
    private readonly producer: SqliteProducer,
  ) {}

  save(d: ScheduleDefinition): void {
    this.db.handle
      .transaction(() => {
        const held = this.row(d.key);
        if (held?.kind === 'static') throw staticKeyError(d.key);
        this.upsert(d, 'dynamic', held);
      })
      .immediate();
  }

  remove(key: string): boolean {
    return this.db.handle
      .transaction(() => {
        const gone = this.db.stmt("DELETE FROM jobs_schedules WHERE key = ? AND kind = 'dynamic'").run(key).changes > 0;
        if (gone) this.db.stmt('DELETE FROM jobs_schedule_ticks WHERE key = ?').run(key);
        return gone;
      })
      .immediate();
  }

  /** Admin.removeUndeclaredSchedule, in one IMMEDIATE transaction: no declaration can come between. */
  removeUndeclared(key: string): { removed: boolean; declaredBy: string[] } {
    return this.db.handle
      .transaction(() => {
        if (this.row(key)?.kind !== 'static') return { removed: false, declaredBy: [] };
        const by = this.db
          .stmt<[string], { runtime_id: string }>(
            'SELECT d.runtime_id FROM jobs_schedule_declarations d JOIN jobs_runtimes r ON r.id = d.runtime_id WHERE d.key = ? ORDER BY d.runtime_id',
          )
          .all(key)
          .map((r) => r.runtime_id);
        if (by.length > 0) return { removed: false, declaredBy: by };
        for (const table of ['jobs_schedules', 'jobs_schedule_declarations', 'jobs_schedule_ticks']) {
          this.db.stmt(`DELETE FROM ${table} WHERE key = ?`).run(key);
        }
        return { removed: true, declaredBy: [] };
      })
      .immediate();
  }

  declare(runtimeId: string, schedules: ScheduleDefinition[]): void {
    this.db.handle
      .transaction(() => {
        for (const d of schedules) {
          const held = this.row(d.key);
          if (held?.kind === 'dynamic') throw dynamicKeyError(d.key);
          this.upsert(d, 'static', held);
          this.db.stmt('INSERT INTO jobs_schedule_declarations (key, runtime_id) VALUES (?, ?) ON CONFLICT DO NOTHING').run(d.key, runtimeId);
        }
        // Keys it declared before and not now: its declaration goes (the schedule stays, listed).
        this.db
          .stmt('DELETE FROM jobs_schedule_declarations WHERE runtime_id = ? AND key NOT IN (SELECT value FROM json_each(?))')
          .run(runtimeId, JSON.stringify(schedules.map((d) => d.key)));
      })
      .immediate();
  }

  active(): { nowMs: number; schedules: ScheduleRecord[] } {
    const nowMs = Date.now();
    const rows = this.db.stmt<[], ScheduleRow>(`${SELECT} WHERE s.kind = 'dynamic' OR EXISTS (SELECT 1 ${DECLARERS}) ORDER BY s.key`).all().map(toRecord);
    return { nowMs, schedules: rows };
  }

  list(): ScheduleRecord[] {
    return this.db.stmt<[], ScheduleRow>(`${SELECT} ORDER BY s.key`).all().map(toRecord);
  }

  enqueueTick(key: string, tickAtMs: number, job: NewJob): TickOutcome {
    return this.db.handle
      .transaction((): TickOutcome => {
        const now = Date.now(); // under the write lock
        if (!this.db.stmt('SELECT 1 FROM jobs_schedules WHERE key = ?').get(key)) return { id: null, enqueued: false };
        const claimed = this.db
          .stmt<[string, number], { job_id: number }>('SELECT job_id FROM jobs_schedule_ticks WHERE key = ? AND tick_at = ?')
          .get(key, tickAtMs);
        if (claimed) return { id: claimed.job_id, enqueued: false };
        // The producer's insert: priority, unique key and limits behave as for a dispatch. A
        // unique-key duplicate is recorded with the standing job's id: this tick is then done.
        const [out] = this.producer.insertUnique([tickJob(job, tickAtMs, now)], now);
        const id = out!.id;
        this.db.stmt('INSERT INTO jobs_schedule_ticks (key, tick_at, job_id) VALUES (?, ?, ?)').run(key, tickAtMs, id);
        this.db
          .stmt(
            'UPDATE jobs_schedules SET last_job_id = IIF(last_tick_at IS NULL OR last_tick_at < ?, ?, last_job_id), last_tick_at = MAX(COALESCE(last_tick_at, ?), ?) WHERE key = ?',
          )
          .run(tickAtMs, id, tickAtMs, tickAtMs, key);
        this.db.stmt('DELETE FROM jobs_schedule_ticks WHERE key = ? AND tick_at < ?').run(key, now - TICK_KEEP_MS);
        return { id, enqueued: !out!.duplicate };
      })
      .immediate();
  }

  private row(key: string): { kind: string; cron: string; tz: string; misfire: string; job: string } | undefined {
    return this.db
      .stmt<[string], { kind: string; cron: string; tz: string; misfire: string; job: string }>(
        'SELECT kind, cron, tz, misfire, job FROM jobs_schedules WHERE key = ?',
      )
      .get(key);
  }

  /** Inserts or replaces the definition; its last tick stays (a changed cron applies from the next tick). */
  private upsert(d: ScheduleDefinition, kind: 'static' | 'dynamic', held: ReturnType<SqliteSchedules['row']>): void {
    if (held && sameDefinition(held, d)) return;
    this.db
      .stmt(
        `INSERT INTO jobs_schedules (key, kind, cron, tz, misfire, job, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (key) DO UPDATE SET cron = excluded.cron, tz = excluded.tz, misfire = excluded.misfire, job = excluded.job, updated_at = excluded.updated_at`,
      )
      .run(d.key, kind, d.cron, d.tz, d.misfire, encodeScheduleJob(d.job), Date.now());
  }
}

function toRecord(r: ScheduleRow): ScheduleRecord {
  const s: StoredSchedule = {
    key: r.key,
    kind: r.kind,
    cron: r.cron,
    tz: r.tz,
    misfire: r.misfire,
    job: r.job,
    lastTickAtMs: r.last_tick_at,
    lastJobId: r.last_job_id,
    updatedAtMs: r.updated_at,
    declaredBy: r.declared_by ? (JSON.parse(r.declared_by) as string[]) : [],
  };
  return toScheduleRecord(s);
}
