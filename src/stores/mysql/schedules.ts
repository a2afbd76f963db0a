import type { Connection, ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import type { NewJob, ScheduleDefinition, ScheduleRecord, TickOutcome } from '../store.js';
import { dynamicKeyError, encodeScheduleJob, staticKeyError, TICK_KEEP_MS, toScheduleRecord } from '../schedule-rows.js';
import type { MySqlDatabase } from './database.js';
import { insertUniqueChunk } from './unique-insert.js';

// Recurring schedules, MySQL dialect. A tick is claimed by inserting (schedule, tick) into
// <t>_schedule_ticks in the transaction that inserts its job, under the schedule's row lock: a
// second runtime's try of the same tick waits on that lock, then finds the row and its job id. Ticks and
// "now" are by the database's clock (UTC sessions), so the hosts' clocks never matter.

/** The store's clock in ms since the epoch (sessions are UTC, so UNIX_TIMESTAMP reads NOW(3) right). */
const NOW_MS = 'CAST(ROUND(UNIX_TIMESTAMP(NOW(3)) * 1000) AS UNSIGNED)';

export class MySqlSchedules {
  constructor(private readonly db: MySqlDatabase) {}

  private get t(): string {
    return this.db.table;
  }

  save(d: ScheduleDefinition): Promise<void> {
    return this.inTransaction(async (conn) => {
      const kind = await upsert(conn, this.t, d, 'dynamic');
      if (kind !== 'dynamic') throw staticKeyError(d.key);
    });
  }

  remove(key: string): Promise<boolean> {
    return this.inTransaction(async (conn) => {
      const [res] = await conn.query<ResultSetHeader>(`DELETE FROM ${this.t}_schedules WHERE schedule_key = ? AND kind = 'dynamic'`, [key]);
      if (res.affectedRows > 0) await conn.query(`DELETE FROM ${this.t}_schedule_ticks WHERE schedule_key = ?`, [key]);
      return res.affectedRows > 0;
    });
  }

  /** Admin.removeUndeclaredSchedule: under the schedule's row lock, which a declaration's upsert takes first too. */
  removeUndeclared(key: string): Promise<{ removed: boolean; declaredBy: string[] }> {
    return this.inTransaction(async (conn) => {
      const t = this.t;
      const [found] = await conn.query<RowDataPacket[]>(`SELECT kind FROM ${t}_schedules WHERE schedule_key = ? FOR UPDATE`, [key]);
      if (found[0]?.kind !== 'static') return { removed: false, declaredBy: [] };
      // A locking read: declarations committed by now, whatever this transaction's snapshot.
      const [decl] = await conn.query<RowDataPacket[]>(
        `SELECT d.runtime_id FROM ${t}_schedule_declarations d JOIN ${t}_runtimes r ON r.id = d.runtime_id WHERE d.schedule_key = ? LOCK IN SHARE MODE`,
        [key],
      );
      if (decl.length > 0) return { removed: false, declaredBy: decl.map((d) => String(d.runtime_id)).sort() };
      await conn.query(
        `DELETE FROM ${t}_schedules WHERE schedule_key = ?; DELETE FROM ${t}_schedule_declarations WHERE schedule_key = ?;
         DELETE FROM ${t}_schedule_ticks WHERE schedule_key = ?`,
        [key, key, key],
      );
      return { removed: true, declaredBy: [] };
    });
  }

  declare(runtimeId: string, schedules: ScheduleDefinition[]): Promise<void> {
    return this.inTransaction(async (conn) => {
      for (const d of schedules) {
        if ((await upsert(conn, this.t, d, 'static')) !== 'static') throw dynamicKeyError(d.key);
        await conn.query(
          `INSERT INTO ${this.t}_schedule_declarations (schedule_key, runtime_id) VALUES (?, ?) ON DUPLICATE KEY UPDATE runtime_id = runtime_id`,
          [d.key, runtimeId],
        );
      }
      // Keys it declared before and not now: its declaration goes (the schedule stays, listed).
      const keep = schedules.length ? schedules.map((d) => d.key) : [''];
      await conn.query(`DELETE FROM ${this.t}_schedule_declarations WHERE runtime_id = ? AND schedule_key NOT IN (?)`, [runtimeId, keep]);
    });
  }

  async active(): Promise<{ nowMs: number; schedules: ScheduleRecord[] }> {
    return this.db.run(async (conn) => {
      const [[clock]] = await conn.query<RowDataPacket[]>(`SELECT ${NOW_MS} AS now_ms`);
      const all = await this.read(conn);
      return { nowMs: Number(clock!.now_ms), schedules: all.filter((s) => s.kind === 'dynamic' || s.declaredBy.length > 0) };
    });
  }

  list(): Promise<ScheduleRecord[]> {
    return this.db.run((conn) => this.read(conn));
  }

  enqueueTick(key: string, tickAtMs: number, job: NewJob): Promise<TickOutcome> {
    return this.inTransaction(async (conn): Promise<TickOutcome> => {
      const t = this.t;
      // The schedule's row lock: its ticks are written one at a time, and a removed one enqueues nothing.
      const [found] = await conn.query<RowDataPacket[]>(`SELECT ${NOW_MS} AS now_ms FROM ${t}_schedules WHERE schedule_key = ? FOR UPDATE`, [key]);
      if (found.length === 0) return { id: null, enqueued: false };
      // Under that lock, a tick claimed before is found here. Not an upsert's affectedRows: mysql2
      // connects with FOUND_ROWS, so a duplicate that changes nothing also reads 1. The primary
      // key still guards the insert below: a second row for the tick fails, rolling its job back.
      const [[seen]] = await conn.query<RowDataPacket[]>(`SELECT job_id FROM ${t}_schedule_ticks WHERE schedule_key = ? AND tick_at = ?`, [key, tickAtMs]);
      if (seen) return { id: seen.job_id === null ? null : Number(seen.job_id), enqueued: false };
      // The producer's insert: priority, unique key and limits behave as for a dispatch. A
      // unique-key duplicate is recorded with the standing job's id: this tick is then done.
      const [out] = await insertUniqueChunk(conn, t, this.db.isMariaDb, [job], { begin: false, commit: false, dueAtMs: tickAtMs });
      const id = out!.id;
      await conn.query(
        `INSERT INTO ${t}_schedule_ticks (schedule_key, tick_at, job_id) VALUES (?, ?, ?);
         UPDATE ${t}_schedules SET last_job_id = IF(last_tick_at IS NULL OR last_tick_at < ?, ?, last_job_id),
           last_tick_at = GREATEST(COALESCE(last_tick_at, 0), ?) WHERE schedule_key = ?;
         DELETE FROM ${t}_schedule_ticks WHERE schedule_key = ? AND tick_at < ?`,
        [key, tickAtMs, id, tickAtMs, id, tickAtMs, key, key, Number(found[0]!.now_ms) - TICK_KEEP_MS],
      );
      return { id, enqueued: !out!.duplicate };
    });
  }

  private async read(conn: Connection): Promise<ScheduleRecord[]> {
    const [rows] = await conn.query<RowDataPacket[]>(
      `SELECT schedule_key, kind, cron, tz, misfire, job, last_tick_at, last_job_id, updated_at FROM ${this.t}_schedules ORDER BY schedule_key`,
    );
    // Declarations count only while their runtime is registered.
    const [decl] = await conn.query<RowDataPacket[]>(
      `SELECT d.schedule_key, d.runtime_id FROM ${this.t}_schedule_declarations d JOIN ${this.t}_runtimes r ON r.id = d.runtime_id`,
    );
    const by = new Map<string, string[]>();
    for (const d of decl) by.set(String(d.schedule_key), [...(by.get(String(d.schedule_key)) ?? []), String(d.runtime_id)]);
    return rows.map((r) =>
      toScheduleRecord({
        key: String(r.schedule_key),
        kind: String(r.kind),
        cron: String(r.cron),
        tz: String(r.tz),
        misfire: String(r.misfire),
        job: String(r.job),
        lastTickAtMs: r.last_tick_at === null ? null : Number(r.last_tick_at),
        lastJobId: r.last_job_id === null ? null : Number(r.last_job_id),
        updatedAtMs: (r.updated_at as Date).getTime(),
        declaredBy: by.get(String(r.schedule_key)) ?? [],
      }),
    );
  }

  private inTransaction<T>(fn: (conn: Connection) => Promise<T>): Promise<T> {
    return this.db.run(async (conn) => {
      await conn.query('START TRANSACTION');
      try {
        const out = await fn(conn);
        await conn.query('COMMIT');
        return out;
      } catch (e) {
        await conn.query('ROLLBACK').catch(() => undefined);
        throw e;
      }
    });
  }
}

/**
 * Inserts `d` as a `kind` schedule, or replaces the definition of the one of that kind under its
 * key (its last tick stays: a changed cron applies from the next tick; updated_at moves only
 * when something changed). A key of the other kind is left alone; answers the kind that holds
 * the key, now under this transaction's lock.
 */
async function upsert(conn: Connection, t: string, d: ScheduleDefinition, kind: 'static' | 'dynamic'): Promise<string> {
  const same = 'kind = VALUES(kind)';
  // SET runs left to right: updated_at compares the old values before they are replaced.
  await conn.query(
    `INSERT INTO ${t}_schedules (schedule_key, kind, cron, tz, misfire, job, updated_at) VALUES (?, ?, ?, ?, ?, ?, UTC_TIMESTAMP(3))
     ON DUPLICATE KEY UPDATE
       updated_at = IF(${same} AND NOT (cron <=> VALUES(cron) AND tz <=> VALUES(tz) AND misfire <=> VALUES(misfire) AND job <=> VALUES(job)), VALUES(updated_at), updated_at),
       cron = IF(${same}, VALUES(cron), cron), tz = IF(${same}, VALUES(tz), tz),
       misfire = IF(${same}, VALUES(misfire), misfire), job = IF(${same}, VALUES(job), job)`,
    [d.key, kind, d.cron, d.tz, d.misfire, encodeScheduleJob(d.job)],
  );
  const [[row]] = await conn.query<RowDataPacket[]>(`SELECT kind FROM ${t}_schedules WHERE schedule_key = ?`, [d.key]);
  return String(row?.kind);
}
