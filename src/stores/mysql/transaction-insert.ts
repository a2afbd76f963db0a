import type { RowDataPacket } from 'mysql2/promise';
import { InvalidInputError } from '../../errors.js';
import { assertPayloadSize } from '../../values/payload.js';
import { chunkJobs } from '../chunk-jobs.js';
import type { AppTransaction, Enqueued, NewJob } from '../store.js';
import { insertSql, uniqueInsertStatements } from './unique-insert.js';

// A dispatch inside the application's own transaction (MySQL dialect): the store's statements
// (unique-insert.ts), sent one at a time on the application's connection, which may not allow
// several statements in one query. Nothing begins or ends a transaction here: the job's rows
// and unique keys commit or roll back with the application's.

type MySqlTransaction = Extract<AppTransaction, { dialect: 'mysql' }>;

/** Where the store's own connections point, for the check that the application's do too. */
export interface ServerIdentity {
  database: string;
  server: string;
}

/**
 * Refuses, before anything is written, a connection that is not inside an open transaction (an
 * INSERT there would commit at once, whatever the application does next) or that points at
 * another database or server than the store's URL.
 */
export async function checkTransaction(tx: MySqlTransaction, isMariaDb: boolean, store: ServerIdentity, displayUrl: string): Promise<void> {
  // MariaDB says whether a transaction is open; MySQL lists it in innodb_trx once it has read or
  // written (an application dispatches after its own writes, so it has).
  const open = isMariaDb ? '@@in_transaction' : '(SELECT COUNT(*) FROM information_schema.innodb_trx WHERE trx_mysql_thread_id = CONNECTION_ID())';
  let row: Record<string, unknown> | undefined;
  try {
    [row] = await tx.query(`SELECT ${open} AS t, DATABASE() AS d, ${SERVER} AS s`, []);
  } catch (e) {
    // MySQL shows information_schema.innodb_trx only to users with the PROCESS privilege.
    if (!isMariaDb && /PROCESS privilege|access denied/i.test(String((e as Error)?.message))) {
      throw new InvalidInputError(
        `On MySQL, dispatch({ transaction }) checks that the ${tx.library} transaction is open in information_schema.innodb_trx, which the app's database user may not read: ` +
          `${(e as Error).message}. Grant it PROCESS (GRANT PROCESS ON *.* TO …); nothing was written`,
      );
    }
    throw e;
  }
  if (!row || Number(row.t) === 0) {
    const mysql = isMariaDb ? '' : ' (on MySQL a transaction shows as open only once it has read or written a table: dispatch after the first statement)';
    throw new InvalidInputError(
      `The ${tx.library} transaction given to dispatch is not open (it was committed or rolled back, or never began${mysql}): nothing was written. Dispatch inside the transaction's callback, before it ends`,
    );
  }
  if (String(row.d) !== store.database || String(row.s) !== store.server) {
    throw new InvalidInputError(
      `The ${tx.library} transaction is on database '${String(row.d)}' at ${String(row.s)}, but jobs go to ${displayUrl} (database '${store.database}' at ${store.server}): nothing was written. ` +
        'Give the app and jobs-runtime the same database (JOBS_DATABASE_URL or configure({ databaseUrl }))',
    );
  }
}

/**
 * A missing jobs table, as the app's library reports it (mysql2's errno, Knex's and TypeORM's
 * copies of it, Prisma's P2010 with the server's message): the store's own message. The failed
 * statement left the app's transaction open; nothing of the job was written.
 */
export function explainInTransaction(e: unknown, library: string, displayUrl: string): unknown {
  const err = e as { errno?: number; message?: string; meta?: { code?: string } };
  const missing = /Table '(?:[^'.]*\.)?([^']+)' doesn't exist/.exec(String(err?.message ?? ''))?.[1];
  if (err?.errno === 1146 || err?.meta?.code === '1146' || missing) {
    return new InvalidInputError(
      `The table '${missing ?? 'jobs'}' does not exist in the ${library} transaction's database (${displayUrl}): run \`jobs-runtime migrate\` first. ` +
        'Nothing of the job was written; the transaction is still open',
    );
  }
  return e;
}

/** The server's name and port as it reports them: the same text whichever connection asks. */
export const SERVER = "CONCAT(@@hostname, ':', @@port)";

/**
 * The release of expired unique keys, as the store writes it, locks the index range it scans:
 * harmless in the store's READ COMMITTED sessions, but in an application's REPEATABLE READ
 * transaction it takes gap locks that concurrent dispatches' INSERTs then wait on, in a cycle
 * (deadlocks under load). Here the holders are found by a plain read and released by id: only
 * their rows are locked. A holder that expires after the transaction's snapshot is missed, and
 * the new job is its duplicate, as it would have been a moment earlier.
 */
async function runWithoutGapLocks(tx: MySqlTransaction, st: { sql: string; values: unknown[] }, table: string): Promise<Array<Record<string, unknown>>> {
  const head = `UPDATE ${table} SET unique_key = NULL WHERE `;
  if (!st.sql.startsWith(head)) return tx.query(st.sql, st.values);
  const expired = await tx.query(`SELECT id FROM ${table} WHERE ${st.sql.slice(head.length)}`, st.values);
  if (expired.length > 0) {
    const ids = expired.map((r) => Number(r.id));
    await tx.query(`UPDATE ${table} SET unique_key = NULL WHERE id IN (${ids.map(() => '?').join(', ')}) AND unique_expires_at <= UTC_TIMESTAMP(3)`, ids);
  }
  return [];
}

/** Inserts checked jobs on the application's connection, as the store's own insert does (priority, unique keys, limits). */
export async function insertInTransaction(
  tx: MySqlTransaction,
  o: { table: string; isMariaDb: boolean; maxPayloadBytes: number; rowsPerStatement: number; statementBytes: number },
  jobs: NewJob[],
): Promise<Enqueued[]> {
  for (const j of jobs) assertPayloadSize(j.payload, o.maxPayloadBytes, 'mysql');
  const out: Enqueued[] = [];
  for (const chunk of chunkJobs(jobs, o.rowsPerStatement, o.statementBytes)) {
    if (chunk.some((j) => j.unique)) {
      const { statements, read } = uniqueInsertStatements(o.table, o.isMariaDb, chunk);
      const sets: RowDataPacket[][] = [];
      for (const st of statements) sets.push((await runWithoutGapLocks(tx, st, o.table)) as RowDataPacket[]);
      out.push(...read(sets));
      continue;
    }
    const { sql, values } = insertSql(o.table, chunk);
    if (o.isMariaDb) {
      const rows = await tx.query(`${sql} RETURNING id`, values);
      out.push(...rows.map((r) => ({ id: Number(r.id), duplicate: false })));
    } else {
      // MySQL: one multi-row INSERT gets consecutive ids from LAST_INSERT_ID(), spaced by the increment.
      await tx.query(sql, values);
      const [first] = await tx.query('SELECT LAST_INSERT_ID() AS id, @@auto_increment_increment AS i', []);
      const start = Number(first?.id);
      const step = Number(first?.i ?? 1);
      out.push(...chunk.map((_, i) => ({ id: start + i * step, duplicate: false })));
    }
  }
  return out;
}
