// dispatch({ transaction }) at its edges, against real MariaDB and SQLite: the mysql2 and
// TypeORM commit hooks give the app's objects back on every path (commit, rollback after a
// throw, a commit that fails, a release with the transaction open); objects that look like a
// supported library's but are not its transaction are named; sync: refuses, null: drops.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import knexFactory from 'knex';
import { Kysely, MysqlDialect } from 'kysely';
import { createPool } from 'mysql2';
import mysql from 'mysql2/promise';
import { DataSource } from 'typeorm';
import { close, configure } from 'jobs-runtime';
import SeesOrder from './fixtures/tx-jobs/SeesOrder.ts';
import { createApp, type E2eApp } from './helpers/e2e.js';
import { generatePrisma } from './helpers/tx-libraries.js';
import { waitFor } from './helpers/wait.js';

const HOOKED = ['commit', 'rollback', 'query', 'execute', 'release', 'end', 'destroy'];
/** No method of the connection is ours any more: each is the library's own, from its prototype. */
const restored = (o: object, methods: string[]) =>
  assert.deepEqual(
    methods.filter((m) => Object.hasOwn(o, m)),
    [],
  );

describe('dispatch in a transaction, at the edges: MariaDB', () => {
  let app: E2eApp;
  let payload: { orderId: number; url: string; file: string };
  before(async () => {
    app = await createApp('mysql', 'txedges');
    payload = { orderId: 0, url: app.url, file: join(app.dir, 'runs.txt') };
    configure({ databaseUrl: app.url });
  });
  after(async () => {
    await close();
    await app?.close();
  });

  test('mysql2: the hook is gone after a commit, a rollback after a throw, a failed commit, and a release with the transaction open', async () => {
    const pool = mysql.createPool({ uri: app.url, connectionLimit: 2 });
    const admin = await mysql.createConnection(app.url);
    try {
      const inTransaction = async (body: (conn: mysql.PoolConnection) => Promise<void>) => {
        const conn = await pool.getConnection();
        await conn.beginTransaction();
        await new SeesOrder().dispatch(payload, { transaction: conn });
        assert.ok(Object.hasOwn(conn, 'commit'), 'hooked while the transaction is open');
        await body(conn);
        restored(conn, HOOKED);
        return conn;
      };
      (await inTransaction((c) => c.commit())).release();
      const thrown = await inTransaction(async (c) => {
        try {
          throw new Error('the app fails');
        } catch {
          await c.rollback();
        }
      });
      thrown.release();
      await inTransaction(async (c) => c.release()); // the app forgot to end it: the pool resets nothing
      // A commit that fails: the connection is killed under it.
      const killed = await inTransaction(async (c) => {
        await admin.query('KILL ?', [c.threadId]);
        await assert.rejects(c.commit());
      });
      killed.destroy();
    } finally {
      await pool.end();
      await admin.end();
    }
  });

  test('TypeORM: the QueryRunner is given back after a rollback on a throw, and after a commit', async () => {
    const ds = new DataSource({ type: 'mysql', url: app.url });
    await ds.initialize();
    try {
      let runner: object | undefined;
      await assert.rejects(
        ds.transaction(async (manager) => {
          runner = manager.queryRunner;
          await new SeesOrder().dispatch(payload, { transaction: manager });
          throw new Error('the app fails');
        }),
        /the app fails/,
      );
      restored(runner!, ['commitTransaction', 'rollbackTransaction', 'release']);
      await ds.transaction(async (manager) => {
        runner = manager.queryRunner;
        await new SeesOrder().dispatch(payload, { transaction: manager });
      });
      restored(runner!, ['commitTransaction', 'rollbackTransaction', 'release']);
    } finally {
      await ds.destroy();
    }
  });

  test('a Kysely instance outside a transaction, or a Kysely whose executeQuery no longer takes our query, is named as such', async () => {
    const kysely = new Kysely<Record<string, never>>({ dialect: new MysqlDialect({ pool: createPool({ uri: app.url, connectionLimit: 1 }) }) });
    try {
      await assert.rejects(new SeesOrder().dispatch(payload, { transaction: kysely }), /A Kysely instance outside a transaction.*db\.transaction\(\)\.execute/);
      await kysely.transaction().execute(async (trx) => {
        // As a Kysely that changed its compiled-query shape would fail: a TypeError from inside it.
        const changed = new Proxy(trx, {
          get: (t, k) =>
            k === 'executeQuery'
              ? async () => {
                  throw new TypeError("Cannot read properties of undefined (reading 'kind')");
                }
              : Reflect.get(t, k),
        });
        await assert.rejects(
          new SeesOrder().dispatch(payload, { transaction: changed }),
          (e: Error) => e instanceof TypeError && /drives Kysely through a shape it does not document.*reading 'kind'.*please report it/.test(e.message),
        );
      });
    } finally {
      await kysely.destroy();
    }
  });

  test('the PrismaClient itself (not the client of $transaction(async (tx) => …)) is named as such', async () => {
    generatePrisma();
    const generated = './fixtures/prisma/generated/client.ts'; // generated at test time (see tx-libraries.ts)
    const { PrismaClient } = (await import(generated)) as { PrismaClient: new (o: { adapter: unknown }) => { $disconnect(): Promise<void> } };
    const { PrismaMariaDb } = await import('@prisma/adapter-mariadb');
    const prisma = new PrismaClient({ adapter: new PrismaMariaDb(app.url.replace(/^mysql:/, 'mariadb:')) });
    try {
      await assert.rejects(
        new SeesOrder().dispatch(payload, { transaction: prisma }),
        /The PrismaClient itself was given.*prisma\.\$transaction\(async \(tx\)/,
      );
    } finally {
      await prisma.$disconnect();
    }
  });

  test('sync: refuses a transaction, saying why; null: drops the job and still names a wrong object', async () => {
    const knex = knexFactory({ client: 'mysql2', connection: app.url, pool: { min: 0, max: 1 } });
    const before = await app.count();
    try {
      configure({ databaseUrl: 'sync:' });
      await knex.transaction(async (trx) => {
        await assert.rejects(
          new SeesOrder().dispatch(payload, { transaction: trx }),
          /cannot use the sync: engine: it would run the job at once, inside the Knex transaction before its commit.*use null:/,
        );
      });
      configure({ databaseUrl: 'null:' });
      await knex.transaction(async (trx) => {
        assert.equal(typeof (await new SeesOrder().dispatch(payload, { transaction: trx })), 'number');
        await assert.rejects(new SeesOrder().dispatch(payload, { transaction: { query() {} } }), /Accepted: a mysql2/);
      });
      assert.equal(await app.count(), before, 'nothing was written');
    } finally {
      await knex.destroy();
      configure({ databaseUrl: app.url });
    }
  });
});

describe('dispatch in a transaction, at the edges: SQLite', () => {
  test('sync: refuses synchronously inside db.transaction(), rolling it back; null: drops the job', async () => {
    const app = await createApp('sqlite', 'txedges');
    const db = new Database(join(app.dir, 'jobs.sqlite'));
    const payload = { orderId: 0, url: app.url, file: join(app.dir, 'runs.txt') };
    try {
      db.exec('CREATE TABLE tx_orders (id INTEGER PRIMARY KEY, label TEXT NOT NULL)');
      configure({ databaseUrl: 'sync:' });
      assert.throws(
        db.transaction(() => {
          db.prepare('INSERT INTO tx_orders (label) VALUES (?)').run('refused');
          void new SeesOrder().dispatch(payload, { transaction: db });
        }),
        /cannot use the sync: engine.*better-sqlite3 transaction/,
      );
      configure({ databaseUrl: 'null:' });
      let id: unknown;
      db.transaction(() => {
        void new SeesOrder().dispatch(payload, { transaction: db }).then((v) => {
          id = v;
        });
      })();
      assert.equal(typeof (await waitFor('the id', () => id ?? null)), 'number');
      assert.equal(db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM tx_orders').get()!.n, 0, 'the refused transaction rolled back');
      assert.equal(await app.count(), 0, 'null: wrote no job');
    } finally {
      db.close();
      await close();
      await app.close();
    }
  });
});
