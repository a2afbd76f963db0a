import { assertPayloadSize } from '../../values/payload.js';
import { EnqueueCoalescer, type EnqueueStats } from '../enqueue-coalescer.js';
import type { Enqueued, JobId, NewJob, Producer, ScheduleDefinition } from '../store.js';
import type { SqliteDatabase } from './database.js';
import type { SqliteSchedules } from './schedules.js';

// SQLite's own limit on one value is 1e9 bytes; stay well below to keep memory sane.
const MAX_PAYLOAD_BYTES = 256 * 1024 * 1024;
// Dispatches gathered into one transaction: each row is its own prepared INSERT (no statement
// variables to run out of), so the bound only keeps one commit from holding the event loop long.
const GATHER_ROWS = 2000;
const GATHER_BYTES = 16 * 1024 * 1024;

const COLUMNS = `handler, queue, payload, status, attempts, max_attempts, retry_after_ms, timeout_ms, created_at, scheduled_at,
  priority, retry_policy, concurrency_key, concurrency_limit, rate_key, rate_limit, rate_per_ms, unique_key, unique_until, unique_expires_at`;
const VALUES = "?, ?, ?, 'new', 0, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?";

/**
 * Dispatch: one IMMEDIATE transaction (one commit) per dispatchMany, and per group of
 * dispatches made while the previous commit held the event loop (enqueue-coalescer.ts). A call
 * with a unique key goes alone (the coalescer carries ids only): the job's INSERT meets the
 * partial unique index jobs_unique, and a conflict reads the standing job under the same write
 * lock, so two dispatchers never both insert.
 */
export class SqliteProducer implements Producer {
  private readonly coalescer: EnqueueCoalescer;
  /** Set by the store: schedules insert their ticks' jobs through this producer. */
  schedules!: SqliteSchedules;

  constructor(private readonly db: SqliteDatabase) {
    this.coalescer = new EnqueueCoalescer({
      store: 'sqlite',
      maxPayloadBytes: () => this.maxPayloadBytes(),
      statementLimit: () => ({ rows: GATHER_ROWS, bytes: GATHER_BYTES }),
      write: async (jobs) => this.insert(jobs),
      synchronous: true,
    });
  }

  get enqueueStats(): EnqueueStats {
    return this.coalescer.stats;
  }

  get displayUrl(): string {
    return this.db.displayUrl;
  }

  async maxPayloadBytes(): Promise<number> {
    return MAX_PAYLOAD_BYTES;
  }

  async close(): Promise<void> {
    this.db.close();
  }

  async saveSchedule(params: { schedule: ScheduleDefinition }): Promise<void> {
    this.schedules.save(params.schedule);
  }

  async removeSchedule(params: { key: string }): Promise<boolean> {
    return this.schedules.remove(params.key);
  }

  async enqueueWithOutcome(params: { jobs: NewJob[] }): Promise<Enqueued[]> {
    if (!params.jobs.some((j) => j.unique)) return (await this.coalescer.enqueue(params.jobs)).map((id) => ({ id, duplicate: false }));
    for (const j of params.jobs) assertPayloadSize(j.payload, MAX_PAYLOAD_BYTES, 'sqlite');
    return this.insertUnique(params.jobs);
  }

  async enqueue(params: { jobs: NewJob[] }): Promise<JobId[]> {
    if (!params.jobs.some((j) => j.unique)) return this.coalescer.enqueue(params.jobs);
    return (await this.enqueueWithOutcome(params)).map((o) => o.id);
  }

  /** Jobs without unique keys: a plain INSERT each, in one transaction (all or nothing, one commit). */
  private insert(jobs: NewJob[]): JobId[] {
    const now = Date.now();
    const insert = this.db.stmt<unknown[], { id: number }>(`INSERT INTO jobs (${COLUMNS}) VALUES (${VALUES}) RETURNING id`);
    return this.db.handle.transaction((rows: NewJob[]) => rows.map((j) => insert.get(...values(j, now))!.id)).immediate(jobs);
  }

  /**
   * Jobs of one call, some with unique keys, in one transaction. In input order, so a later job
   * of the call with an earlier one's key meets it and is its duplicate. Also the insert of a
   * schedule's tick (schedules.ts), inside its transaction (then a savepoint), at its clock read `now`.
   */
  insertUnique(jobs: NewJob[], at?: number): Enqueued[] {
    const insert = this.db.stmt<unknown[], { id: number }>(`INSERT INTO jobs (${COLUMNS}) VALUES (${VALUES}) RETURNING id`);
    // The index is what enforces the key: a held key inserts nothing (DO NOTHING).
    const insertKeyed = this.db.stmt<unknown[], { id: number }>(
      `INSERT INTO jobs (${COLUMNS}) VALUES (${VALUES})
        ON CONFLICT (handler, unique_key) WHERE unique_key IS NOT NULL DO NOTHING RETURNING id`,
    );
    // The 'for' window: a holder whose window has passed gives the key up (it keeps running or waiting).
    const expire = this.db.stmt('UPDATE jobs SET unique_key = NULL WHERE handler = ? AND unique_key = ? AND unique_expires_at <= ?');
    const standing = this.db.stmt<[string, string], { id: number }>('SELECT id FROM jobs WHERE handler = ? AND unique_key = ?');
    const replace = this.db.stmt("UPDATE jobs SET payload = ?, scheduled_at = ?, rate_deferred = 0 WHERE id = ? AND status IN ('new', 'blocked')");
    return this.db.handle
      .transaction((rows: NewJob[]): Enqueued[] => {
        // Read once the write lock is held (a caller's `at` was read under it too).
        const now = at ?? Date.now();
        return rows.map((j): Enqueued => {
          const u = j.unique;
          if (!u) return { id: insert.get(...values(j, now))!.id, duplicate: false };
          expire.run(j.handler, u.key, now);
          // The standing job is read first, under the write lock this transaction holds from its
          // start (no other writer in between, so no race): an INSERT that DO NOTHING skips would
          // still spend an AUTOINCREMENT id, and ids would jump after each duplicate.
          let held = standing.get(j.handler, u.key);
          if (!held) {
            const inserted = insertKeyed.get(...values(j, now));
            if (inserted) return { id: inserted.id, duplicate: false };
            held = standing.get(j.handler, u.key)!; // the index found a holder after all
          }
          if (u.onConflict === 'replace') replace.run(j.payload, now + j.delayMs, held.id);
          return { id: held.id, duplicate: true };
        });
      })
      .immediate(jobs);
  }
}

/** The INSERT's values for one job (COLUMNS order). */
function values(j: NewJob, now: number): unknown[] {
  const u = j.unique ?? null;
  return [
    j.handler,
    j.queue,
    j.payload,
    j.maxAttempts,
    j.retryAfterMs,
    j.timeoutMs,
    now,
    now + j.delayMs,
    j.priority ?? 0,
    j.retryPolicy ?? null,
    j.concurrency?.key ?? null,
    j.concurrency?.limit ?? null,
    j.rate?.key ?? null,
    j.rate?.limit ?? null,
    j.rate?.perMs ?? null,
    u?.key ?? null,
    u?.until ?? null,
    u === null || u.forMs === null ? null : now + u.forMs,
  ];
}
