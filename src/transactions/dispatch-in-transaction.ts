import { defaultProducer, dispatchUrlNow, wakeFor } from '../dispatcher.js';
import { InvalidInputError } from '../errors.js';
import { checkInlinePayloads } from '../inline/inline-ids.js';
import { sqlitePath } from '../stores/open-store.js';
import { insertInSqliteTransaction } from '../stores/sqlite/producer.js';
import type { Enqueued, NewJob, Producer } from '../stores/store.js';
import { refreshWakeAddresses } from '../wake/address-sender.js';
import { wakeRuntimes } from '../wake/wake-sender.js';
import { watchCommit } from './commit-hooks.js';
import { recogniseTransaction } from './recognise.js';

// dispatch(payload, { transaction }): the job's rows are written on the application's open
// transaction, with the store's own statements, and exist if and only if it commits. Idle
// runtimes are woken after the commit: through the library's commit where it can be seen
// (commit-hooks.ts), else once the store's own connection sees the row.
// The engines that keep no jobs: null: drops them as it drops every dispatch (the transaction
// is still recognised, so a test on null: sees the same TypeError a real store gives); sync:
// refuses, since it would run the job inside the transaction, before the commit, and also
// after a rollback: the very bug { transaction } exists to prevent.

/**
 * Writes `jobs` in `transaction`. For a better-sqlite3 Database the write is synchronous: it
 * happens, or throws, before this returns, as a statement inside db.transaction() must.
 */
export function dispatchInTransaction(jobs: () => NewJob[], transaction: unknown): Promise<Enqueued[]> {
  try {
    const recognised = recogniseTransaction(transaction);
    if (recognised.tx.dialect === 'sqlite' && /^(null|sync):/i.test(dispatchUrlNow())) return inlineEngine(jobs(), recognised.tx.library, dispatchUrlNow());
    if (recognised.tx.dialect === 'sqlite') return inSqliteTransaction(jobs(), recognised.tx.handle); // throws here, synchronously
    return inMySqlTransaction(jobs(), recognised.tx, recognised.onCommit);
  } catch (e) {
    if (isSqlite(transaction)) throw e;
    return Promise.reject(e); // as any other dispatch fails
  }
}

function isSqlite(t: unknown): boolean {
  try {
    return recogniseTransaction(t).tx.dialect === 'sqlite';
  } catch {
    return false;
  }
}

function inSqliteTransaction(jobs: NewJob[], handle: import('better-sqlite3').Database): Promise<Enqueued[]> {
  const due = jobs.some((j) => j.delayMs === 0);
  const url = dispatchUrlNow();
  if (!/^(sqlite|file):/i.test(url)) {
    throw new InvalidInputError(
      `A better-sqlite3 transaction was given to dispatch, but jobs go to ${url.replace(/\/\/[^@/]*@/, '//***@')}, not an SQLite file: nothing was written`,
    );
  }
  const path = sqlitePath(url);
  const results = insertInSqliteTransaction(handle, path, jobs);
  const stored = results.find((r) => !r.duplicate);
  if (due && stored) {
    const row = handle.prepare('SELECT 1 FROM jobs WHERE id = ?');
    // db.transaction() commits as its function returns: looked at on the next turns of the loop.
    watchCommit(
      () => (handle.inTransaction ? false : row.get(stored.id) !== undefined ? true : null),
      () => wakeRuntimes(`sqlite:${path}`, String(stored.id)),
    );
  }
  return Promise.resolve(results);
}

async function inMySqlTransaction(
  jobs: NewJob[],
  tx: Parameters<NonNullable<Producer['enqueueInTransaction']>>[0]['transaction'],
  onCommit: ReturnType<typeof recogniseTransaction>['onCommit'],
): Promise<Enqueued[]> {
  const due = jobs.some((j) => j.delayMs === 0);
  const p = await defaultProducer();
  if (/^(null|sync):/i.test(p.displayUrl)) return inlineEngine(jobs, tx.library, p.displayUrl, p);
  if (!p.enqueueInTransaction) throw refusal(p.displayUrl);
  if (due) refreshWakeAddresses(p); // in the background, alongside the insert
  const results = await p.enqueueInTransaction({ jobs, transaction: tx });
  const stored = results.find((r) => !r.duplicate);
  if (due && stored) {
    const wake = () => wakeFor(p, stored.id);
    if (onCommit) onCommit(wake);
    else if (p.isCommitted) watchCommit(() => p.isCommitted!({ id: stored.id }), wake);
  }
  return results;
}

/**
 * null: drops the jobs (checked as it checks any dispatch; synchronously, for better-sqlite3's
 * sake); sync: refuses, writing nothing.
 */
function inlineEngine(jobs: NewJob[], library: string, url: string, producer?: Producer): Promise<Enqueued[]> {
  if (/^sync:/i.test(url)) {
    throw new InvalidInputError(
      `dispatch({ transaction }) cannot use the sync: engine: it would run the job at once, inside the ${library} transaction before its commit ` +
        '(the job would not see its rows, and would have run even if the transaction rolled back): nothing was run. ' +
        "In tests, use null: to drop such jobs, or give the test the app's own database as the store (mysql: or an sqlite: file) and run the jobs with a runtime",
    );
  }
  checkInlinePayloads(jobs, 'null:');
  return producer ? producer.enqueueWithOutcome({ jobs }) : defaultProducer().then((p) => p.enqueueWithOutcome({ jobs }));
}

function refusal(url: string): Error {
  if (/^rediss?:/i.test(url)) {
    return new InvalidInputError(
      `dispatch({ transaction }) needs the jobs in the same SQL database as the transaction, but jobs go to Redis (${url}), which cannot take part in it: nothing was written. ` +
        "Dispatch after the commit instead (the job is then lost if the process dies in between), or keep jobs in the app's MySQL/MariaDB or SQLite database",
    );
  }
  return new InvalidInputError(
    `dispatch({ transaction }) is not possible with ${url}: it keeps no jobs in the transaction's database. Dispatch after the commit instead`,
  );
}
