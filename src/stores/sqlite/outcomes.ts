import type { JobId, JobOutcomeState, OutcomeEvent, OutcomeKind, OutcomePage, OutcomeReader } from '../store.js';
import { stateOf } from '../outcome-state.js';
import type { SqliteDatabase } from './database.js';

// Outcome events (issue 17) on SQLite: written by record() and the recovery in their own
// transactions (the statements below), read here by the application with plain reads.

/** One event, in the caller's write transaction; values in INSERT_OUTCOME's column order. */
export const INSERT_OUTCOME = `INSERT INTO jobs_outcomes (job_id, kind, handler, queue, attempt, duration_ms, error, result, at)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`;

/**
 * The recovery's events, in its transaction, before the rows change: for each job `where`
 * matches, 'failed' when this interruption is one too many, else 'retrying' (its run is lost).
 */
export function insertRecoveryEvents(sdb: SqliteDatabase, where: string, args: unknown[], maxInterruptions: number, now: number): void {
  sdb
    .stmt(
      `INSERT INTO jobs_outcomes (job_id, kind, handler, queue, attempt, duration_ms, error, result, at)
       SELECT id, CASE WHEN interruptions + 1 > ? THEN 'failed' ELSE 'retrying' END, handler, queue, attempts, NULL,
         CASE WHEN interruptions + 1 > ? THEN 'Interrupted ' || (interruptions + 1) || ' times: the runtime running it died each time (more than the ' || CAST(? AS INTEGER) || ' allowed), so it is failed as a likely cause'
           ELSE 'Interrupted: the runtime running it (' || COALESCE(owner, 'none') || ') died; it runs again' END,
         NULL, ?
       FROM jobs WHERE status = 'processing' AND ${where} ORDER BY id`,
    )
    .run(maxInterruptions, maxInterruptions, maxInterruptions, now, ...args);
}

interface EventRow {
  seq: number;
  job_id: number;
  kind: OutcomeKind;
  handler: string;
  queue: string;
  attempt: number;
  duration_ms: number | null;
  error: string | null;
  result: string | null;
  at: number;
}

const EVENT_COLUMNS = 'seq, job_id, kind, handler, queue, attempt, duration_ms, error, result, at';

export class SqliteOutcomes implements OutcomeReader {
  /** One writer at a time: seq order is commit order. */
  readonly idsCommitOutOfOrder = false;

  constructor(private readonly db: SqliteDatabase) {}

  async jobOutcome(params: { id: JobId }): Promise<JobOutcomeState> {
    const row = this.db
      .stmt<[number], EventRow>(`SELECT ${EVENT_COLUMNS} FROM jobs_outcomes WHERE job_id = ? AND kind <> 'retrying' ORDER BY seq DESC LIMIT 1`)
      .get(params.id);
    if (row) return { final: toEvent(row), state: 'ended' };
    const job = this.db.stmt<[number], { status: string }>('SELECT status FROM jobs WHERE id = ?').get(params.id);
    return { final: null, state: stateOf(job?.status) };
  }

  async outcomeEvents(params: { after: string | null; queues?: string[] | null; limit: number }): Promise<OutcomePage> {
    const after = params.after === null ? 0 : Number(params.after);
    const queues = params.queues ?? null;
    const sql = `SELECT ${EVENT_COLUMNS} FROM jobs_outcomes WHERE seq > ?${queues ? ' AND queue IN (SELECT value FROM json_each(?))' : ''} ORDER BY seq LIMIT ?`;
    const args: unknown[] = queues ? [after, JSON.stringify(queues), params.limit] : [after, params.limit];
    const events = this.db
      .stmt<unknown[], EventRow>(sql)
      .all(...args)
      .map(toEvent);
    return { events, cursor: events.at(-1)?.id ?? params.after };
  }

  async lastEventId(): Promise<string | null> {
    const row = this.db.stmt<[], { seq: number | null }>('SELECT MAX(seq) AS seq FROM jobs_outcomes').get();
    return row?.seq == null ? null : String(row.seq);
  }
}

function toEvent(r: EventRow): OutcomeEvent {
  return {
    id: String(r.seq),
    kind: r.kind,
    jobId: r.job_id,
    handler: r.handler,
    queue: r.queue,
    attempt: r.attempt,
    durationMs: r.duration_ms,
    error: r.error,
    result: r.result,
    at: new Date(r.at),
  };
}
