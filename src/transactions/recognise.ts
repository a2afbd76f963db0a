import type { AppTransaction } from '../stores/store.js';
import { hookKnex, hookMysql2, hookTypeOrm, type CommitHook } from './commit-hooks.js';

// The application's transaction, in the form its library gives it, recognised by its shape so
// the package depends on none of them (each is a dev dependency, tested against real MariaDB and
// SQLite). Each becomes the store's AppTransaction (one statement at a time, `?` parameters) and,
// where the library lets us see its commit, a hook that fires after it.

/** What dispatch learns from `{ transaction }`. */
export interface RecognisedTransaction {
  tx: AppTransaction;
  /** Calls back once after the commit, or never after a rollback; null when the commit cannot be seen (then the store is asked). */
  onCommit: CommitHook | null;
}

export const ACCEPTED =
  'a mysql2 promise Connection or PoolConnection (after beginTransaction()), a Knex transaction, a Kysely transaction, a Drizzle transaction (mysql2 driver), ' +
  'a Prisma interactive-transaction client ($transaction(async (tx) => …)), a TypeORM EntityManager of a transaction or QueryRunner, ' +
  'or a better-sqlite3 Database inside db.transaction()';

type Rows = Array<Record<string, unknown>>;
// biome-ignore lint/suspicious/noExplicitAny: the objects are the libraries' own; only their shape is read.
type Loose = any;

const fn = (v: unknown): boolean => typeof v === 'function';

export function recogniseTransaction(t: unknown): RecognisedTransaction {
  const o = t as Loose;
  if (o !== null && (typeof o === 'object' || typeof o === 'function')) {
    // better-sqlite3: synchronous, its own file.
    if (fn(o.prepare) && fn(o.transaction) && fn(o.pragma) && typeof o.inTransaction === 'boolean') {
      return { tx: { dialect: 'sqlite', library: 'better-sqlite3', handle: o }, onCommit: null };
    }
    // Knex: the transaction is a callable query builder with its own completion promise.
    if (fn(o) && fn(o.raw) && o.isTransaction === true && o.executionPromise instanceof Promise) {
      if (fn(o.isCompleted) && o.isCompleted()) throw ended('Knex');
      const query = async (sql: string, values: unknown[]): Promise<Rows> => rowsOf(await o.raw(sql, values));
      return { tx: { dialect: 'mysql', library: 'Knex', query }, onCommit: hookKnex(o) };
    }
    // Kysely: a Transaction runs compiled queries; its commit is out of sight. The compiled
    // query is built here in the shape Kysely 0.28 gives its own (CompiledQuery.raw), which
    // Kysely does not promise to keep: a change shows as the error shapeChanged() words.
    if (o.isTransaction === true && fn(o.executeQuery) && fn(o.selectFrom)) {
      const query = async (sql: string, values: unknown[]): Promise<Rows> =>
        (
          await o.executeQuery({
            sql,
            parameters: values,
            query: { kind: 'RawNode', sqlFragments: [sql], parameters: [] },
            queryId: { queryId: 'jobs-runtime' },
          })
        ).rows;
      return { tx: { dialect: 'mysql', library: 'Kysely', query: shapeChecked('Kysely', KYSELY_SHAPE, query) }, onCommit: null };
    }
    if (fn(o.selectFrom) && fn(o.insertInto)) {
      throw new TypeError(
        o.isTransaction === false && fn(o.transaction)
          ? 'A Kysely instance outside a transaction was given as { transaction }: pass the trx that db.transaction().execute(async (trx) => …) hands you'
          : `This looks like a Kysely object, but not a Transaction as jobs-runtime recognises one (${KYSELY_SHAPE}): your Kysely version may differ from the ones tested (0.28); please report it`,
      );
    }
    // Drizzle (mysql2): the transaction's session holds the mysql2 connection it runs on.
    if (fn(o.rollback) && fn(o.execute) && o.session?.client && fn(o.session.client.query) && fn(o.session.client.commit)) {
      return mysql2(o.session.client, 'Drizzle');
    }
    // Prisma: the interactive-transaction client, told from the root client by having no
    // $connect/$disconnect (Prisma leaves them out of the transaction's client; it keeps
    // $transaction for nested ones): not a documented shape.
    if (fn(o.$queryRawUnsafe) && fn(o.$executeRawUnsafe)) {
      if (fn(o.$disconnect) || fn(o.$connect)) {
        throw new TypeError(
          'The PrismaClient itself was given as { transaction }: pass the tx that prisma.$transaction(async (tx) => …) hands you ' +
            '(the array form, $transaction([…]), has no client to pass). If that is what you passed, your Prisma version gives its transaction client $connect/$disconnect, ' +
            `unlike the ones tested (7): please report it`,
        );
      }
      const query = async (sql: string, values: unknown[]): Promise<Rows> => {
        if (/^\s*(SELECT|WITH)\b|\bRETURNING\b/i.test(sql)) return o.$queryRawUnsafe(sql, ...values);
        await o.$executeRawUnsafe(sql, ...values);
        return [];
      };
      return { tx: { dialect: 'mysql', library: 'Prisma', query: shapeChecked('Prisma', PRISMA_SHAPE, query) }, onCommit: null };
    }
    // TypeORM: an EntityManager of a transaction carries its QueryRunner.
    const runner = fn(o.commitTransaction) && fn(o.query) && 'isTransactionActive' in o ? o : o.queryRunner;
    if (runner && fn(runner.commitTransaction) && fn(runner.query)) {
      if (!runner.isTransactionActive) throw ended('TypeORM');
      const query = async (sql: string, values: unknown[]): Promise<Rows> => rowsOf(await runner.query(sql, values));
      return { tx: { dialect: 'mysql', library: 'TypeORM', query }, onCommit: hookTypeOrm(runner) };
    }
    if (o.constructor?.name === 'EntityManager') {
      throw new TypeError(
        'A TypeORM EntityManager outside a transaction was given as { transaction }: pass the manager that dataSource.transaction(async (manager) => …) hands you',
      );
    }
    // mysql2 promise API (its callback connection has .promise()).
    if (fn(o.query) && fn(o.commit) && fn(o.beginTransaction)) {
      if (!o.connection && fn(o.promise)) {
        throw new TypeError('A mysql2 callback connection was given as { transaction }: pass its promise form (connection.promise(), or mysql2/promise)');
      }
      return mysql2(o, 'mysql2');
    }
  }
  const what = o === null ? 'null' : typeof o === 'object' || typeof o === 'function' ? `a ${o.constructor?.name ?? typeof o}` : typeof o;
  throw new TypeError(`{ transaction } must be the application's open transaction; got ${what}. Accepted: ${ACCEPTED}`);
}

const KYSELY_SHAPE = 'isTransaction true, executeQuery() taking { sql, parameters, query: RawNode, queryId }';
const PRISMA_SHAPE = '$queryRawUnsafe() and $executeRawUnsafe() with ? parameters, no $connect/$disconnect on the transaction client';

/**
 * A TypeError from the library while it runs our statement is not the server's answer (that
 * comes as the driver's error, passed on as it is) but the library no longer taking what we
 * give it: said so, naming the shape relied on.
 */
function shapeChecked(library: string, shape: string, query: (sql: string, values: unknown[]) => Promise<Rows>) {
  return async (sql: string, values: unknown[]): Promise<Rows> => {
    try {
      return await query(sql, values);
    } catch (e) {
      if (!(e instanceof TypeError)) throw e;
      throw new TypeError(
        `jobs-runtime drives ${library} through a shape it does not document (${shape}), and this ${library} refused it: ${e.message}. ` +
          `Your ${library} version may differ from the ones tested; please report it. Until then, dispatch after the commit, or on a library whose transaction is a mysql2 connection`,
        { cause: e },
      );
    }
  };
}

function mysql2(conn: Loose, library: string): RecognisedTransaction {
  const query = async (sql: string, values: unknown[]): Promise<Rows> => rowsOf((await conn.query(sql, values))[0]);
  return { tx: { dialect: 'mysql', library, query }, onCommit: hookMysql2(conn) };
}

/** Rows from a driver's result: an array of rows, or [rows, fields] (Knex on mysql2), or a write's header (no rows). */
function rowsOf(r: unknown): Rows {
  if (Array.isArray(r)) return Array.isArray(r[0]) ? (r[0] as Rows) : (r as Rows);
  return [];
}

function ended(library: string): Error {
  return new TypeError(
    `The ${library} transaction given to dispatch has already ended (committed or rolled back): nothing was written. Dispatch inside its callback`,
  );
}
