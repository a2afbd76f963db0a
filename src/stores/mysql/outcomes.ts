import type { Connection, RowDataPacket } from 'mysql2/promise';
import { stateOf } from '../outcome-state.js';
import type { JobId, JobOutcomeState, JobResult, OutcomeEvent, OutcomeKind, OutcomePage, OutcomeReader } from '../store.js';
import type { MySqlDatabase } from './database.js';

// Outcome events (issue 17) on MySQL/MariaDB: a table beside the jobs table, written by
// record() and the recovery inside their transactions, read by the application (waitFor,
// jobEvents) with plain reads by key.

const TEXT_UTF8MB4 = 'CHARACTER SET utf8mb4 COLLATE utf8mb4_bin';

/**
 * seq is the event id. AUTO_INCREMENT values are taken when a row is inserted, but rows become
 * visible at commit: two record() transactions may commit in the other order, so a follower
 * re-reads the seqs it skipped for a while (OutcomeReader.idsCommitOutOfOrder). Per job the
 * order holds: a job's next event is written only after its previous one committed.
 */
export function createOutcomesTableSql(table: string): string {
  return `CREATE TABLE IF NOT EXISTS ${table}_outcomes (
  seq BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  job_id BIGINT UNSIGNED NOT NULL,
  kind VARCHAR(9) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  handler VARCHAR(255) ${TEXT_UTF8MB4} NOT NULL,
  queue VARCHAR(64) ${TEXT_UTF8MB4} NOT NULL,
  attempt INT NOT NULL,
  duration_ms DOUBLE NULL,
  error LONGTEXT ${TEXT_UTF8MB4} NULL,
  result MEDIUMTEXT ${TEXT_UTF8MB4} NULL,
  at DATETIME(3) NOT NULL,
  PRIMARY KEY (seq),
  KEY job (job_id, seq),
  KEY at (at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`;
}

/**
 * One statement writing the events of a results batch, for record()'s transaction: placed after
 * the SELECT … FOR UPDATE that locked the claims and before the statements that change them, it
 * joins each result to its row while the claim (owner, status, token) still holds, so a stale
 * result writes nothing, and the row still says handler and attempt.
 */
export function recordEventsSql(table: string, owner: string, results: JobResult[]): { sql: string; args: unknown[] } {
  const args: unknown[] = [];
  const rows = results.map((r, k) => {
    const kind: OutcomeKind = r.outcome === 'retry' ? 'retrying' : r.outcome;
    args.push(r.id, r.token, kind, r.durationMs ?? null, r.outcome === 'completed' ? null : r.error, r.outcome === 'completed' ? (r.result ?? null) : null);
    return k === 0 ? 'SELECT ? AS id, ? AS token, ? AS kind, ? AS d, ? AS e, ? AS r' : 'SELECT ?, ?, ?, ?, ?, ?';
  });
  args.push(owner);
  const sql = `INSERT INTO ${table}_outcomes (job_id, kind, handler, queue, attempt, duration_ms, error, result, at)
    SELECT j.id, v.kind, j.handler, j.queue, j.attempts, v.d, v.e, v.r, UTC_TIMESTAMP(3)
    FROM (${rows.join(' UNION ALL ')}) v JOIN ${table} j ON j.id = v.id AND j.claim_token = v.token
    WHERE j.owner = ? AND j.status = 'processing' ORDER BY j.id`;
  return { sql, args };
}

/**
 * The recovery's events, before its UPDATEs change the rows `where` matches (same parameters):
 * 'failed' when this interruption is one too many, else 'retrying'.
 */
export async function insertRecoveryEvents(conn: Connection, table: string, where: string, params: unknown[], maxInterruptions: number): Promise<void> {
  await conn.query(
    `INSERT INTO ${table}_outcomes (job_id, kind, handler, queue, attempt, duration_ms, error, result, at)
     SELECT id, IF(interruptions + 1 > ?, 'failed', 'retrying'), handler, queue, attempts, NULL,
       IF(interruptions + 1 > ?,
         CONCAT('Interrupted ', interruptions + 1, ' times: the runtime running it died each time (more than the ', ?, ' allowed), so it is failed as a likely cause'),
         CONCAT('Interrupted: the runtime running it (', COALESCE(owner, 'none'), ') died; it runs again')),
       NULL, UTC_TIMESTAMP(3)
     FROM ${table} WHERE status = 'processing' AND ${where} ORDER BY id`,
    [maxInterruptions, maxInterruptions, maxInterruptions, ...params],
  );
}

const COLUMNS = 'seq, job_id, kind, handler, queue, attempt, duration_ms, error, result, at';

export class MySqlOutcomes implements OutcomeReader {
  readonly idsCommitOutOfOrder = true;

  constructor(private readonly db: MySqlDatabase) {}

  async jobOutcome(params: { id: JobId }): Promise<JobOutcomeState> {
    const t = this.db.table;
    // One round trip: the final event if kept, and the row's status.
    const [sets] = await this.db.run((conn) =>
      conn.query<RowDataPacket[][]>(
        `SELECT ${COLUMNS} FROM ${t}_outcomes WHERE job_id = ? AND kind <> 'retrying' ORDER BY seq DESC LIMIT 1; SELECT status FROM ${t} WHERE id = ?`,
        [params.id, params.id],
      ),
    );
    const final = sets[0]![0];
    if (final) return { final: toEvent(final), state: 'ended' };
    return { final: null, state: stateOf(sets[1]![0]?.status as string | undefined) };
  }

  async outcomeEvents(params: { after: string | null; queues?: string[] | null; limit: number; alsoIds?: string[] }): Promise<OutcomePage> {
    const also = params.alsoIds?.length ? params.alsoIds.map(Number) : null;
    const args: unknown[] = [params.after === null ? 0 : Number(params.after)];
    let where = also ? '(seq > ? OR seq IN (?))' : 'seq > ?';
    if (also) args.push(also);
    if (params.queues) {
      where += ' AND queue IN (?)';
      args.push(params.queues.length ? params.queues : ['']);
    }
    args.push(params.limit);
    const [rows] = await this.db.run((conn) =>
      conn.query<RowDataPacket[]>(`SELECT ${COLUMNS} FROM ${this.db.table}_outcomes WHERE ${where} ORDER BY seq LIMIT ?`, args),
    );
    const events = rows.map(toEvent);
    // Ids re-read (alsoIds) may be older than `after`: the cursor only moves forward.
    const last = events.reduce((m, e) => Math.max(m, Number(e.id)), params.after === null ? 0 : Number(params.after));
    return { events, cursor: last === 0 ? params.after : String(last) };
  }

  async lastEventId(): Promise<string | null> {
    const [rows] = await this.db.run((conn) => conn.query<RowDataPacket[]>(`SELECT MAX(seq) AS seq FROM ${this.db.table}_outcomes`));
    const seq = rows[0]?.seq;
    return seq === null || seq === undefined ? null : String(seq);
  }
}

function toEvent(r: RowDataPacket): OutcomeEvent {
  return {
    id: String(r.seq),
    kind: r.kind as OutcomeKind,
    jobId: Number(r.job_id),
    handler: String(r.handler),
    queue: String(r.queue),
    attempt: Number(r.attempt),
    durationMs: r.duration_ms === null ? null : Number(r.duration_ms),
    error: (r.error as string | null) ?? null,
    result: (r.result as string | null) ?? null,
    at: r.at instanceof Date ? r.at : new Date(String(r.at)),
  };
}
