import type { Connection, ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import type { NewJob, RecoveryReport, Registry, RuntimeInfo, RuntimeRecord, RuntimeStats, ScheduleDefinition, ScheduleRecord, TickOutcome } from '../store.js';
import type { MySqlDatabase } from './database.js';
import { insertRecoveryEvents } from './outcomes.js';
import { MySqlSchedules } from './schedules.js';
import { keyLimits, unblockKeys } from './unblock.js';

// The runtime registry, crash recovery and leases, MySQL dialect. Heartbeats and "dead" are judged by
// the database's clock, so clocks of different hosts never matter.

/** Runtimes and their heartbeats, crash recovery, leases. */
export class MySqlRegistry implements Registry {
  private readonly schedules: MySqlSchedules;

  constructor(private readonly db: MySqlDatabase) {
    this.schedules = new MySqlSchedules(db);
  }

  async registerRuntime(params: { runtime: RuntimeInfo }): Promise<void> {
    await this.db.run((conn) => upsertRuntime(conn, this.db.table, params.runtime, null));
  }

  async heartbeat(params: { runtime: RuntimeInfo; stats: RuntimeStats; timeoutMs: number }): Promise<{ wasRegistered: boolean }> {
    const inserted = await this.db.run((conn) => upsertRuntime(conn, this.db.table, params.runtime, params.stats), {
      lane: 'beat',
      deadlineMs: params.timeoutMs,
    });
    return { wasRegistered: !inserted };
  }

  async deregisterRuntime(params: { id: string }): Promise<void> {
    // Its schedule declarations go with it (one transaction): a static schedule no runtime declares stops.
    const t = this.db.table;
    await this.db.run((conn) =>
      conn.query(`START TRANSACTION; ${DROP_RUNTIME(t)}; COMMIT`, [params.id, params.id]).catch(async (e) => {
        await conn.query('ROLLBACK').catch(() => undefined);
        throw e;
      }),
    );
  }

  async listRuntimes(_params: Record<string, never> = {}): Promise<RuntimeRecord[]> {
    return this.db.run(async (conn) => {
      const table = this.db.table;
      const [rows] = await conn.query<RowDataPacket[]>(
        `SELECT *, TIMESTAMPDIFF(MICROSECOND, heartbeat_at, UTC_TIMESTAMP(3)) DIV 1000 AS silent_ms FROM ${table}_runtimes ORDER BY started_at, id`,
      );
      return rows.map((r) => ({
        id: r.id,
        host: r.host,
        pid: Number(r.pid),
        queues: r.queues === null ? null : String(r.queues).split(','),
        threads: Number(r.threads),
        slots: r.slots === null || r.slots === undefined ? Number(r.threads) : Number(r.slots),
        wakeAddress: r.wake_address ?? null,
        startedAt: r.started_at,
        heartbeatAt: r.heartbeat_at,
        silentForMs: Number(r.silent_ms),
        cpuPercent: Number(r.cpu_percent),
        rssBytes: Number(r.rss_bytes),
        jobsDone: Number(r.jobs_done),
        jobsFailed: Number(r.jobs_failed),
        busyThreads: Number(r.busy_threads),
      }));
    });
  }

  async recoverDeadRuntimes(params: { deadAfterMs: number; maxInterruptions: number; alsoDead?: string[]; keepOutcomes?: boolean }): Promise<RecoveryReport> {
    return this.db.run((conn) => recoverDead(conn, this.db.table, params));
  }

  async sweepOrphans(params: { deadAfterMs: number; maxInterruptions: number; keepOutcomes?: boolean }): Promise<{ released: number; failed: number }> {
    return this.db.run((conn) => sweepOrphans(conn, this.db.table, params));
  }

  async acquireLease(params: { name: string; owner: string; ttlMs: number }): Promise<boolean> {
    return this.db.run(async (conn) => {
      const table = this.db.table;
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
    });
  }
  declareSchedules(params: { runtimeId: string; schedules: ScheduleDefinition[] }): Promise<void> {
    return this.schedules.declare(params.runtimeId, params.schedules);
  }
  activeSchedules(_params: Record<string, never> = {}): Promise<{ nowMs: number; schedules: ScheduleRecord[] }> {
    return this.schedules.active();
  }
  enqueueTick(params: { key: string; tickAtMs: number; job: NewJob }): Promise<TickOutcome> {
    return this.schedules.enqueueTick(params.key, params.tickAtMs, params.job);
  }
  async releaseLease(params: { name: string; owner: string }): Promise<void> {
    return this.db.run(async (conn) => {
      const table = this.db.table;
      await conn.query(`DELETE FROM ${table}_leases WHERE name = ? AND owner = ?`, [params.name, params.owner]);
    });
  }
}

/** A runtime's registry row and its schedule declarations (two statements; parameters: id, id). */
const DROP_RUNTIME = (t: string) => `DELETE FROM ${t}_runtimes WHERE id = ?; DELETE FROM ${t}_schedule_declarations WHERE runtime_id = ?`;

/** True when the row was inserted (the runtime was not registered). */
async function upsertRuntime(conn: Connection, table: string, runtime: RuntimeInfo, stats: RuntimeStats | null): Promise<boolean> {
  const s = stats ?? { cpuPercent: 0, rssBytes: 0, jobsDone: 0, jobsFailed: 0, busyThreads: 0 };
  const [res] = await conn.query<ResultSetHeader>(
    `INSERT INTO ${table}_runtimes (id, host, pid, queues, threads, slots, wake_address, started_at, heartbeat_at, cpu_percent, rss_bytes, jobs_done, jobs_failed, busy_threads)
     VALUES (?, ?, ?, ?, ?, ?, ?, UTC_TIMESTAMP(3), UTC_TIMESTAMP(3), ?, ?, ?, ?, ?)
     ON DUPLICATE KEY UPDATE heartbeat_at = UTC_TIMESTAMP(3), cpu_percent = VALUES(cpu_percent), rss_bytes = VALUES(rss_bytes),
       jobs_done = VALUES(jobs_done), jobs_failed = VALUES(jobs_failed), busy_threads = VALUES(busy_threads)`,
    [
      runtime.id,
      runtime.host,
      runtime.pid,
      runtime.queues ? runtime.queues.join(',') : null,
      runtime.threads,
      runtime.slots ?? runtime.threads,
      runtime.wakeAddress ?? null,
      s.cpuPercent,
      s.rssBytes,
      s.jobsDone,
      s.jobsFailed,
      s.busyThreads,
    ],
  );
  return res.affectedRows === 1; // ON DUPLICATE KEY UPDATE counts an update as 2
}

/**
 * One transaction per dead runtime: lock its registry row (SKIP LOCKED: a peer recovering it
 * at the same moment skips it), give back or fail its jobs, delete the row.
 */
export async function recoverDead(
  conn: Connection,
  table: string,
  params: { deadAfterMs: number; maxInterruptions: number; alsoDead?: string[]; keepOutcomes?: boolean },
): Promise<RecoveryReport> {
  const report: RecoveryReport = { runtimes: [], released: 0, failed: 0 };
  const dead = `(heartbeat_at < UTC_TIMESTAMP(3) - INTERVAL ? MICROSECOND OR id IN (?))`;
  const deadArgs = [params.deadAfterMs * 1000, params.alsoDead?.length ? params.alsoDead : ['']];
  const [candidates] = await conn.query<RowDataPacket[]>(`SELECT id FROM ${table}_runtimes WHERE ${dead}`, deadArgs);
  for (const { id } of candidates) {
    await conn.query('START TRANSACTION');
    try {
      // Dead still, now that its row is locked: a runtime that beat since the list was read is
      // alive, and giving its jobs back would run them twice.
      const [locked] = await conn.query<RowDataPacket[]>(`SELECT id FROM ${table}_runtimes WHERE id = ? AND ${dead} FOR UPDATE SKIP LOCKED`, [id, ...deadArgs]);
      if (locked.length > 0) {
        const counts = await giveBackInBatches(conn, table, "status = 'processing' AND owner = ?", [id], params, Infinity, true);
        await conn.query(DROP_RUNTIME(table), [id, id]);
        report.runtimes.push(String(id));
        report.released += counts.released;
        report.failed += counts.failed;
      }
      await conn.query('COMMIT');
    } catch (e) {
      await conn.query('ROLLBACK').catch(() => undefined);
      throw e;
    }
  }
  return report;
}

/**
 * Claims whose owner is not registered at all (its row was removed while it still ran, or rows
 * written by another system), given back once as old as a dead heartbeat; at most 20 batches a
 * call, the rest at the next period.
 */
export async function sweepOrphans(
  conn: Connection,
  table: string,
  params: { deadAfterMs: number; maxInterruptions: number; keepOutcomes?: boolean },
): Promise<{ released: number; failed: number }> {
  const orphan = `status = 'processing' AND claimed_at < UTC_TIMESTAMP(3) - INTERVAL ? MICROSECOND AND (owner IS NULL OR owner NOT IN (SELECT id FROM ${table}_runtimes))`;
  return giveBackInBatches(conn, table, orphan, [params.deadAfterMs * 1000], params, 20, false);
}

/** Rows changed per statement: the locks a give-back takes stay few and short. */
const GIVE_BACK_BATCH = 500;

/**
 * Gives back the jobs matching `where`, found by a plain read, which locks nothing: an UPDATE
 * with `where` would read processing rows through the claim index and lock (or wait on) every
 * one it passes, those of live runtimes included, and deadlock with their result writes. Each
 * batch is then changed by id with `where` checked again, so a job recorded, re-claimed or
 * whose owner registered meanwhile is left alone. Slots of concurrency keys the batch frees are
 * given on to blocked jobs in the same transaction (`inTransaction`: the caller's; else one per batch).
 */
async function giveBackInBatches(
  conn: Connection,
  table: string,
  where: string,
  args: unknown[],
  o: { maxInterruptions: number; keepOutcomes?: boolean },
  maxBatches: number,
  inTransaction: boolean,
): Promise<{ released: number; failed: number }> {
  const total = { released: 0, failed: 0 };
  for (let batch = 0; batch < maxBatches; batch++) {
    const [rows] = await conn.query<RowDataPacket[]>(`SELECT id, concurrency_key, concurrency_limit FROM ${table} WHERE ${where} LIMIT ?`, [
      ...args,
      GIVE_BACK_BATCH,
    ]);
    if (rows.length === 0) break;
    const limits = keyLimits(rows);
    // Events must commit with the changes they tell of: then a batch is one transaction too.
    const own = !inTransaction && (limits.size > 0 || o.keepOutcomes === true);
    if (own) await conn.query('START TRANSACTION');
    let counts: { released: number; failed: number };
    try {
      const byId = `id IN (?) AND ${where}`;
      const byIdArgs = [rows.map((r) => Number(r.id)), ...args];
      if (o.keepOutcomes) await insertRecoveryEvents(conn, table, byId, byIdArgs, o.maxInterruptions);
      counts = await giveBack(conn, table, byId, byIdArgs, o.maxInterruptions);
      await unblockKeys(conn, table, limits, own ? 'COMMIT' : null);
    } catch (e) {
      if (own) await conn.query('ROLLBACK').catch(() => undefined);
      throw e;
    }
    total.released += counts.released;
    total.failed += counts.failed;
    if (rows.length < GIVE_BACK_BATCH) break;
  }
  return total;
}

async function giveBack(
  conn: Connection,
  table: string,
  where: string,
  params: unknown[],
  maxInterruptions: number,
): Promise<{ released: number; failed: number }> {
  // Poison jobs first (this interruption would be one too many), then the rest go back to new.
  // A failed one gives up its unique key (it finally failed); one given back keeps it.
  // MySQL evaluates SET left to right: `interruptions` is assigned last so the others see the old value.
  const [failed] = await conn.query<ResultSetHeader>(
    `UPDATE ${table} SET status = 'failed', failed_at = UTC_TIMESTAMP(3), owner = NULL, claimed_at = NULL,
       exception = CONCAT('Interrupted ', interruptions + 1, ' times: the runtime running it died each time (more than the ', ?, ' allowed), so it is failed as a likely cause'),
       interruptions = interruptions + 1, unique_key = NULL
     WHERE status = 'processing' AND interruptions + 1 > ? AND ${where}`,
    [maxInterruptions, maxInterruptions, ...params],
  );
  const [released] = await conn.query<ResultSetHeader>(
    `UPDATE ${table} SET status = 'new', owner = NULL, claimed_at = NULL, attempts = GREATEST(attempts - 1, 0),
       interruptions = interruptions + 1
     WHERE status = 'processing' AND ${where}`,
    params,
  );
  return { released: released.affectedRows, failed: failed.affectedRows };
}
