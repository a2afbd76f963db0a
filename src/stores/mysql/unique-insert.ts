import type { Connection, RowDataPacket } from 'mysql2/promise';
import type { Enqueued, NewJob } from '../store.js';

// The INSERT of jobs, and of jobs with unique keys. A unique key is enforced by the index
// jobs_unique (unique_key, handler): INSERT … ON DUPLICATE KEY UPDATE, never a read before the
// write, so concurrent dispatchers of one key get one job whatever the timing. A duplicate row
// (a standing job, or an earlier job of the same statement) changes nothing but records its id
// in the session variable @jr_dups, which tells which ids returned are duplicates; with
// onConflict 'replace' it also takes the new payload and due time while the standing job waits.

const COLUMNS =
  'handler, queue, payload, status, attempts, max_attempts, retry_after_ms, timeout_ms, created_at, scheduled_at, priority, retry_policy, ' +
  'unique_key, unique_until, unique_expires_at, concurrency_key, concurrency_limit, rate_key, rate_limit, rate_per_ms';
const row = (due: string) => `(?, ?, ?, 'new', 0, ?, ?, ?, UTC_TIMESTAMP(3), ${due}, ?, ?, ?, ?, UTC_TIMESTAMP(3) + INTERVAL ? MICROSECOND, ?, ?, ?, ?, ?)`;
const ROW = row('UTC_TIMESTAMP(3) + INTERVAL ? MICROSECOND');
// A schedule's tick: due at the tick itself (ms since the epoch; sessions are UTC), not after a delay.
const ROW_DUE_AT = row('FROM_UNIXTIME(? / 1000)');

/**
 * The multi-row INSERT of `jobs` (no ON DUPLICATE KEY clause) and its parameters; with
 * `dueAtMs`, every job is due then (a schedule's tick) and `delayMs` is ignored.
 */
export function insertSql(table: string, jobs: NewJob[], dueAtMs?: number): { sql: string; values: unknown[] } {
  const values: unknown[] = [];
  for (const j of jobs) {
    const due = dueAtMs ?? j.delayMs * 1000;
    values.push(j.handler, j.queue, j.payload, j.maxAttempts, j.retryAfterMs, j.timeoutMs, due, j.priority ?? 0, j.retryPolicy ?? null);
    const u = j.unique ?? null;
    values.push(u?.key ?? null, u?.until ?? null, u && u.forMs !== null ? u.forMs * 1000 : null);
    values.push(j.concurrency?.key ?? null, j.concurrency?.limit ?? null, j.rate?.key ?? null, j.rate?.limit ?? null, j.rate?.perMs ?? null);
  }
  return { sql: `INSERT INTO ${table} (${COLUMNS}) VALUES ${jobs.map(() => (dueAtMs === undefined ? ROW : ROW_DUE_AT)).join(', ')}`, values };
}

/** What a duplicate row does: note its id; with 'replace', a waiting job takes the new payload and due time. */
function onDuplicate(mode: 'skip' | 'replace'): string {
  const note = "id = LAST_INSERT_ID(IF((@jr_dups := CONCAT_WS(',', @jr_dups, id)) IS NULL, id, id))";
  if (mode === 'skip') return note;
  const waiting = "status IN ('new', 'blocked')";
  return `${note}, payload = IF(${waiting}, VALUES(payload), payload), scheduled_at = IF(${waiting}, VALUES(scheduled_at), scheduled_at)`;
}

/** One statement and its parameters. */
export interface Statement {
  sql: string;
  values: unknown[];
}

/**
 * The statements that insert `jobs` (some with unique keys) inside a transaction someone else
 * begins and ends, and how to read their results (one row list per statement, in order) into
 * outcomes. First the keys of holders whose `for` window has passed are released, then the rows
 * are inserted in input order, one statement per run of the same onConflict mode, so a later job
 * of the call is a duplicate of an earlier one as if they had been dispatched one after the other.
 * The store sends them as one multi-statement round trip (insertUniqueChunk); a dispatch in the
 * application's transaction sends them one by one on its connection (transaction-insert.ts).
 */
export function uniqueInsertStatements(
  table: string,
  isMariaDb: boolean,
  jobs: NewJob[],
  dueAtMs?: number,
): { statements: Statement[]; read(sets: RowDataPacket[][]): Enqueued[] } {
  const statements: Statement[] = [];
  const keyed = jobs.filter((j) => j.unique);
  if (keyed.length > 0) {
    const keys = [...new Set(keyed.map((j) => j.unique!.key))];
    const handlers = [...new Set(keyed.map((j) => j.handler))];
    statements.push({
      sql: `UPDATE ${table} SET unique_key = NULL WHERE unique_key IN (${marks(keys)}) AND handler IN (${marks(handlers)}) AND unique_expires_at <= UTC_TIMESTAMP(3)`,
      values: [...keys, ...handlers],
    });
  }
  // Each run (MariaDB) or row (MySQL, which has no INSERT … RETURNING) is three statements: reset, INSERT, read of @jr_dups.
  const runs = isMariaDb ? runsByMode(jobs) : jobs.map((j) => ({ mode: j.unique?.onConflict ?? 'skip', jobs: [j] }));
  const firstRun = statements.length;
  for (const run of runs) {
    const { sql, values } = insertSql(table, run.jobs, dueAtMs);
    statements.push({ sql: 'SET @jr_dups = NULL', values: [] });
    statements.push({ sql: `${sql} ON DUPLICATE KEY UPDATE ${onDuplicate(run.mode)}${isMariaDb ? ' RETURNING id' : ''}`, values });
    statements.push({ sql: isMariaDb ? 'SELECT CAST(@jr_dups AS CHAR) AS d' : 'SELECT LAST_INSERT_ID() AS id, CAST(@jr_dups AS CHAR) AS d', values: [] });
  }
  const read = (sets: RowDataPacket[][]): Enqueued[] => {
    const out: Enqueued[] = [];
    runs.forEach((_, i) => {
      const at = firstRun + i * 3;
      if (isMariaDb) {
        const d = sets[at + 2]![0]?.d;
        out.push(
          ...outcomes(
            sets[at + 1]!.map((r) => Number(r.id)),
            d === null || d === undefined ? null : String(d),
          ),
        );
      } else {
        const row = sets[at + 2]![0]!;
        out.push({ id: Number(row.id), duplicate: row.d !== null });
      }
    });
    return out;
  };
  return { statements, read };
}

function marks(list: unknown[]): string {
  return list.map(() => '?').join(', ');
}

/**
 * Inserts `jobs` (some with unique keys) in one round trip, inside a transaction the caller
 * ends (`begin`/`commit`: BEGIN and COMMIT go with it). `o.dueAtMs`: see insertSql.
 */
export async function insertUniqueChunk(
  conn: Connection,
  table: string,
  isMariaDb: boolean,
  jobs: NewJob[],
  o: { begin: boolean; commit: boolean; dueAtMs?: number },
): Promise<Enqueued[]> {
  const { statements, read } = uniqueInsertStatements(table, isMariaDb, jobs, o.dueAtMs);
  const all = [...(o.begin ? [{ sql: 'START TRANSACTION', values: [] }] : []), ...statements, ...(o.commit ? [{ sql: 'COMMIT', values: [] }] : [])];
  const [sets] = await conn.query<RowDataPacket[][]>(
    all.map((st) => st.sql).join('; '),
    all.flatMap((st) => st.values),
  );
  return read(o.begin ? sets.slice(1) : sets);
}

/** Consecutive jobs that share an onConflict mode (jobs without a unique key join any run). */
function runsByMode(jobs: NewJob[]): Array<{ mode: 'skip' | 'replace'; jobs: NewJob[] }> {
  const runs: Array<{ mode: 'skip' | 'replace'; jobs: NewJob[] }> = [];
  for (const j of jobs) {
    const mode = j.unique?.onConflict;
    const last = runs.at(-1);
    if (last && (mode === undefined || mode === last.mode)) last.jobs.push(j);
    else runs.push({ mode: mode ?? 'skip', jobs: [j] });
  }
  return runs;
}

/**
 * Which returned ids are duplicates, from the ids the duplicate rows noted (`dups`, comma
 * separated, in any order): an id returned once more than it was noted was inserted by this
 * statement, at its first occurrence; every other occurrence is a duplicate.
 */
function outcomes(ids: number[], dups: string | null): Enqueued[] {
  const noted = new Map<number, number>();
  for (const d of dups ? dups.split(',') : []) noted.set(Number(d), (noted.get(Number(d)) ?? 0) + 1);
  const returned = new Map<number, number>();
  for (const id of ids) returned.set(id, (returned.get(id) ?? 0) + 1);
  const seen = new Set<number>();
  return ids.map((id) => {
    const first = !seen.has(id);
    seen.add(id);
    const inserted = first && (returned.get(id) ?? 0) > (noted.get(id) ?? 0);
    return { id, duplicate: !inserted };
  });
}
