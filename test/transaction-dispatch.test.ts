// dispatch({ transaction }) with each library, against real MariaDB and SQLite and real runtimes:
// a committed job runs once and sees the row of its transaction, a rolled-back one leaves no job
// and no unique key, runtimes are woken after the commit (they poll every 30 s here), and bad
// transactions are refused with nothing written.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import mysql from 'mysql2/promise';
import { close, configure, openProducer, useStore } from 'jobs-runtime';
import SeesOrder from './fixtures/tx-jobs/SeesOrder.ts';
import { killAll, type RunningCli, startCli } from './helpers/cli.js';
import { createApp, type E2eApp } from './helpers/e2e.js';
import { REDIS_TEST_URL } from './helpers/redis.js';
import { RollBack, type TxLibrary, txLibraries } from './helpers/tx-libraries.js';
import { waitFor } from './helpers/wait.js';

const JOBS = fileURLToPath(new URL('./fixtures/tx-jobs', import.meta.url));

/** The out file's runs: job id → [times run, order found]. */
function runs(file: string): Map<number, { n: number; found: boolean; startedAt: number }> {
  const m = new Map<number, { n: number; found: boolean; startedAt: number }>();
  if (!existsSync(file)) return m;
  for (const line of readFileSync(file, 'utf8').split('\n').filter(Boolean)) {
    const [id, found, at] = line.split(' ').map(Number) as [number, number, number];
    m.set(id, { n: (m.get(id)?.n ?? 0) + 1, found: found === 1, startedAt: at });
  }
  return m;
}

function startRuntime(app: E2eApp, extra: string[] = []): RunningCli {
  return startCli(['start', '--jobs-dir', JOBS, '--database-url', app.url, '--procs', '2', ...extra], { cwd: app.dir, timeoutMs: 240_000 });
}

async function stopRuntime(r: RunningCli): Promise<void> {
  r.child.kill('SIGTERM');
  const res = await r.done;
  assert.equal(res.code, 0, res.stderr);
  assert.doesNotMatch(res.stdout + res.stderr, /deadlock/i);
}

describe('dispatch in the application transaction: MariaDB', () => {
  let app: E2eApp;
  let libs: TxLibrary[];
  let out: string;
  let runtime: RunningCli;
  before(async () => {
    app = await createApp('mysql', 'txdispatch');
    out = join(app.dir, 'runs.txt');
    const admin = await mysql.createConnection(app.url);
    await admin.query('CREATE TABLE tx_orders (id INT AUTO_INCREMENT PRIMARY KEY, label VARCHAR(100) NOT NULL)');
    await admin.end();
    configure({ databaseUrl: app.url });
    libs = await txLibraries(app.url);
    // Polls every 30 s: a job that starts sooner was started by the wake-up after its commit.
    runtime = startRuntime(app, ['--sleep', '30']);
    await waitFor('the runtime to start', () => /started/.test(runtime.stdout()), 30_000);
  });
  after(async () => {
    for (const l of libs ?? []) await l.close();
    await close();
    killAll();
    await app?.close();
  });

  const latencies: number[] = [];
  for (const name of ['mysql2', 'Knex', 'Kysely', 'Drizzle', 'Prisma', 'TypeORM']) {
    test(`${name}: commit → the job runs once, woken after the commit, and sees its order; rollback → no job, no unique key`, async () => {
      const lib = libs.find((l) => l.name === name)!;
      let id = 0;
      let orderId = 0;
      await lib.transact(async (trx, insertOrder) => {
        orderId = await insertOrder(`order via ${name}`);
        id = await new SeesOrder().dispatch({ orderId, url: app.url, file: out }, { transaction: trx });
        // Not before the commit: the row is invisible to the store's own connections.
        assert.equal(await app.count(`id = ${id}`), 0);
      });
      const committedAt = Date.now();
      const run = await waitFor(`job ${id} (${name}) to run`, () => runs(out).get(id), 10_000);
      assert.deepEqual([run.n, run.found], [1, true]);
      latencies.push(run.startedAt - committedAt);

      const key = `rollback-${name}`;
      let rolled = 0;
      await lib.transact(
        async (trx) => {
          const r = await new SeesOrder().dispatchWithResult({ orderId: 0, url: app.url, file: out }, { transaction: trx, unique: { key } });
          rolled = r.id;
          assert.equal(r.duplicate, false);
          throw new RollBack();
        },
        { rollback: true },
      );
      assert.equal(await app.count(`id = ${rolled} OR unique_key = '${key}'`), 0);
      // The key is free again: a dispatch after the rollback is no duplicate.
      const again = await new SeesOrder().dispatchWithResult({ orderId, url: app.url, file: out }, { unique: { key } });
      assert.equal(again.duplicate, false);
      await waitFor(`job ${again.id} to run`, () => runs(out).get(again.id), 10_000);
    });
  }

  test('unique keys and priorities inside the transaction follow the store: in-call duplicates, standing jobs', async () => {
    const lib = libs.find((l) => l.name === 'Knex')!;
    await lib.transact(async (trx) => {
      const rs = await SeesOrder.dispatchManyWithResult(
        [
          { orderId: 1, url: app.url, file: out },
          { orderId: 1, url: app.url, file: out },
        ],
        { transaction: trx, unique: { key: (p) => `u${p.orderId}` }, priority: 7, delay: '+1 hour' },
      );
      assert.deepEqual(
        rs.map((r) => r.duplicate),
        [false, true],
      );
      assert.equal(rs[0]!.id, rs[1]!.id);
      const dup = await new SeesOrder().dispatchWithResult({ orderId: 1, url: app.url, file: out }, { transaction: trx, unique: { key: 'u1' } });
      assert.deepEqual(dup, { id: rs[0]!.id, duplicate: true });
    });
    assert.equal(await app.count("unique_key = 'u1' AND priority = 7"), 1);
  });

  test('bad transactions are refused, naming what is accepted, and nothing is written', async () => {
    const before = await app.count();
    const payload = { orderId: 0, url: app.url, file: out };
    await assert.rejects(
      new SeesOrder().dispatch(payload, { transaction: { query() {} } }),
      (e: Error) => e instanceof TypeError && /Accepted: a mysql2/.test(e.message),
    );
    // Ended: a Knex transaction after its commit; a mysql2 connection with no transaction open.
    let ended: unknown;
    await libs
      .find((l) => l.name === 'Knex')!
      .transact(async (trx) => {
        ended = trx;
      });
    await assert.rejects(new SeesOrder().dispatch(payload, { transaction: ended }), /already ended/);
    const conn = await mysql.createConnection(app.url);
    await assert.rejects(new SeesOrder().dispatch(payload, { transaction: conn }), /not open/);
    // Another database on the same server.
    await conn.query('CREATE DATABASE IF NOT EXISTS jr_txdispatch_other');
    await conn.query('USE jr_txdispatch_other');
    await conn.beginTransaction();
    await assert.rejects(new SeesOrder().dispatch(payload, { transaction: conn }), /on database 'jr_txdispatch_other'.*nothing was written/);
    await conn.rollback();
    await conn.query('DROP DATABASE jr_txdispatch_other');
    await conn.end();
    assert.equal(await app.count(), before);
  });

  test('Redis refuses a transaction, saying why and what to do', async () => {
    const conn = await mysql.createConnection(app.url);
    await conn.beginTransaction();
    useStore(await openProducer(REDIS_TEST_URL));
    try {
      await assert.rejects(
        new SeesOrder().dispatch({ orderId: 0, url: app.url, file: out }, { transaction: conn }),
        /cannot take part in it: nothing was written\. Dispatch after the commit/,
      );
    } finally {
      await conn.rollback();
      await conn.end();
      await close();
      configure({ databaseUrl: app.url });
    }
  });

  test('50 concurrent request-like transactions while 2 runtimes claim: no deadlock, every committed job runs once', async () => {
    await stopRuntime(runtime);
    const second = startRuntime(app, ['--sleep', '0.2']);
    runtime = startRuntime(app, ['--sleep', '0.2']);
    const committed: number[] = [];
    const rolledBack: number[] = [];
    await Promise.all(
      Array.from({ length: 50 }, async (_, i) => {
        const lib = libs[i % libs.length]!;
        let id = 0;
        await lib.transact(
          async (trx, insertOrder) => {
            const orderId = await insertOrder(`load ${i}`);
            const unique = i % 3 === 0 ? { unique: { key: `load-${i}` } } : {};
            id = await new SeesOrder().dispatch({ orderId, url: app.url, file: out }, { transaction: trx, ...unique });
            if (i % 7 === 0) throw new RollBack();
          },
          { rollback: i % 7 === 0 },
        );
        (i % 7 === 0 ? rolledBack : committed).push(id);
      }),
    );
    await waitFor('every committed job to run', () => committed.every((id) => runs(out).has(id)) || null, 30_000);
    const seen = runs(out);
    for (const id of committed) assert.deepEqual([seen.get(id)!.n, seen.get(id)!.found], [1, true], `job ${id}`);
    for (const id of rolledBack) assert.equal(seen.has(id), false, `rolled-back job ${id}`);
    await stopRuntime(second);
    console.log(`commit-to-start of woken jobs (ms): ${latencies.join(', ')}`);
  });
});

describe('dispatch in the application transaction: SQLite (better-sqlite3)', () => {
  let app: E2eApp;
  let db: Database.Database;
  let out: string;
  before(async () => {
    app = await createApp('sqlite', 'txdispatch');
    out = join(app.dir, 'runs.txt');
    configure({ databaseUrl: app.url });
    db = new Database(join(app.dir, 'jobs.sqlite'), { timeout: 10_000 });
    db.exec('CREATE TABLE tx_orders (id INTEGER PRIMARY KEY, label TEXT NOT NULL)');
  });
  after(async () => {
    db?.close();
    await close();
    killAll();
    await app?.close();
  });

  test('commit → runs once under a woken runtime and sees its order; rollback → no job, no key; bad input refused', async () => {
    const runtime = startRuntime(app, ['--sleep', '30']);
    await waitFor('the runtime to start', () => /started/.test(runtime.stdout()), 30_000);
    let id = 0;
    db.transaction(() => {
      const orderId = Number(db.prepare('INSERT INTO tx_orders (label) VALUES (?)').run('sqlite order').lastInsertRowid);
      void new SeesOrder().dispatch({ orderId, url: app.url, file: out }, { transaction: db }).then((v) => {
        id = v;
      });
    })();
    await waitFor('the id', () => id || null);
    const run = await waitFor(`job ${id} to run`, () => runs(out).get(id), 10_000);
    assert.deepEqual([run.n, run.found], [1, true]);

    assert.throws(() =>
      db.transaction(() => {
        void new SeesOrder().dispatch({ orderId: 0, url: app.url, file: out }, { transaction: db, unique: { key: 'gone' } });
        throw new Error('the app fails after dispatching');
      })(),
    );
    assert.equal(await app.count("unique_key = 'gone'"), 0);
    // Outside a transaction, or another file: a synchronous error, nothing written.
    const before = await app.count();
    assert.throws(() => new SeesOrder().dispatch({ orderId: 0, url: app.url, file: out }, { transaction: db }), /not inside a transaction/);
    const other = new Database(join(app.dir, 'other.sqlite'));
    assert.throws(
      () => other.transaction(() => new SeesOrder().dispatch({ orderId: 0, url: app.url, file: out }, { transaction: other }))(),
      /but jobs go to sqlite:/,
    );
    other.close();
    assert.equal(await app.count(), before);
    await stopRuntime(runtime);
  });
});
