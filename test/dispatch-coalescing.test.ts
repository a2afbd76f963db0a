// A dispatching process under concurrent load, as the server sees it: concurrent dispatches
// share INSERTs, the pool setting bounds the connections it opens, unknown URL parameters are
// refused, and a link cut mid-way fails every caller it affects without half-written jobs.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import mysql from 'mysql2/promise';
import { resolveDispatchSettings } from '../src/config.ts';
import { close } from '../src/dispatcher.ts';
import { Job } from '../src/job.ts';
import { openStore } from '../src/stores/open-store.ts';
import type { JobId, JobStore } from '../src/stores/store.ts';
import { FreezableProxy } from './helpers/freezable-proxy.ts';
import { jobRow } from './helpers/job-rows.ts';
import { createMysqlDatabase, type TestDatabase } from './helpers/mysql.ts';
import { createRedisPrefix, type TestRedis } from './helpers/redis.ts';
import { waitFor } from './helpers/wait.ts';

class Signup extends Job<{ n: number }> {
  override queue = 'signups';
  async run() {}
}

/** 200 dispatches at once through the application's default producer; the 78th has a Date in it (as plain JavaScript may pass). */
async function dispatch200(): Promise<{ ids: JobId[]; rejected: number[] }> {
  const settled = await Promise.allSettled(
    Array.from({ length: 200 }, (_, n) => new Signup().dispatch(n === 77 ? ({ at: new Date() } as unknown as { n: number }) : { n }) as Promise<JobId>),
  );
  return {
    ids: settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : [])),
    rejected: settled.flatMap((s, n) => (s.status === 'rejected' ? [n] : [])),
  };
}

describe('dispatching on MySQL under concurrent load', () => {
  let db: TestDatabase;
  let store: JobStore;
  const env = { url: process.env.JOBS_DATABASE_URL, pool: process.env.JOBS_DISPATCH_POOL };
  before(async () => {
    db = await createMysqlDatabase('dispatch_coalescing');
    store = await openStore(db.url, { maxConnections: 1 });
    await store.admin.migrate({});
    // Each row records the connection and the start time of the statement that inserted it.
    await db.query(`CREATE TRIGGER jobs_statement BEFORE INSERT ON jobs FOR EACH ROW SET NEW.exception = CONCAT(CONNECTION_ID(), ' ', NOW(6))`);
  });
  after(async () => {
    await close();
    await store.close();
    await db.drop();
    for (const [k, v] of [
      ['JOBS_DATABASE_URL', env.url],
      ['JOBS_DISPATCH_POOL', env.pool],
    ] as const) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });

  /** Dispatches from the app's default producer, opened afresh from JOBS_DATABASE_URL / JOBS_DISPATCH_POOL. */
  async function useEnv(url: string, pool?: number): Promise<void> {
    await close();
    process.env.JOBS_DATABASE_URL = url;
    if (pool === undefined) delete process.env.JOBS_DISPATCH_POOL;
    else process.env.JOBS_DISPATCH_POOL = String(pool);
  }

  const statementsAndConnections = async () => {
    const [row] = await db.query<Array<{ statements: number; rows: number }>>(
      "SELECT COUNT(DISTINCT exception) AS statements, COUNT(*) AS `rows` FROM jobs WHERE queue = 'signups'",
    );
    const [conn] = await db.query<Array<{ n: number }>>('SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE DB = ? AND ID <> CONNECTION_ID()', [
      db.name,
    ]);
    return { statements: Number(row!.statements), rows: Number(row!.rows), connections: Number(conn!.n) };
  };

  test('200 concurrent dispatches, one invalid: 199 rows in a handful of INSERTs', async (t) => {
    await useEnv(db.url);
    await db.query('DELETE FROM jobs');
    const { ids, rejected } = await dispatch200();
    assert.deepEqual(rejected, [77]);
    assert.equal(new Set(ids).size, 199);
    const seen = await statementsAndConnections();
    assert.equal(seen.rows, 199);
    // One INSERT goes at once; the others gather behind it (more go beside it only if it stalls).
    t.diagnostic(`${seen.statements} INSERTs for 199 dispatches`);
    assert.ok(seen.statements <= 10, `the server ran ${seen.statements} INSERTs for 199 dispatches`);
  });

  /**
   * Dispatches that keep coming while the jobs table is locked (every INSERT stalls): each
   * stalled write lets one more go beside it, on a connection of its own, until the pool is
   * used up. Resolves with what the server saw once the lock is gone and every dispatch stored.
   */
  async function dispatchThroughStall(expected: number) {
    const locker = await mysql.createConnection(db.url);
    const dispatched: Array<Promise<JobId>> = [];
    try {
      await locker.query('LOCK TABLES jobs WRITE');
      let n = 0;
      const more = () => dispatched.push(new Signup().dispatch({ n: n++ }) as Promise<JobId>);
      // A dispatch every 10 ms (a stalled write lets the next go after STALL_MS) until the pool's connections are all in use...
      await waitFor(
        `${expected} connections of the dispatcher`,
        async () => {
          more();
          return (await connectionsIn(db.name)) - 3 === expected; // less the test's own three (this one, the store, the locker)
        },
        10_000,
        10,
      );
      // ... and more after that: no connection beyond the pool.
      for (let i = 0; i < 10; i++) {
        more();
        await new Promise((r) => setTimeout(r, 10));
      }
      assert.equal((await connectionsIn(db.name)) - 3, expected, `connections with a pool of ${expected}`);
    } finally {
      await locker.query('UNLOCK TABLES');
      await locker.end();
    }
    const ids = await Promise.all(dispatched);
    assert.equal(new Set(ids).size, dispatched.length);
    return { ...(await statementsAndConnections()), dispatched: dispatched.length };
  }

  /** The connections in the database, read without touching the jobs table (locked while writes stall). */
  const connectionsIn = async (name: string) => {
    const [row] = await db.query<Array<{ n: number }>>('SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE DB = ?', [name]);
    return Number(row!.n);
  };

  test('the pool setting takes effect: ?pool= in the URL, else JOBS_DISPATCH_POOL, else 4, reached only when writes stall', { timeout: 60_000 }, async () => {
    for (const [url, pool, expected] of [
      [db.url, undefined, 4],
      [`${db.url}?pool=7`, undefined, 7],
      [db.url, 2, 2],
      [`${db.url}?pool=9`, 2, 9],
    ] as const) {
      await useEnv(url, pool);
      await db.query('DELETE FROM jobs');
      const seen = await dispatchThroughStall(expected);
      assert.equal(seen.rows, seen.dispatched);
    }
  });

  test('an unknown URL parameter is refused, naming the known ones; so is a bad pool size', async () => {
    await useEnv(`${db.url}?connectionLimit=10`);
    await assert.rejects(new Signup().dispatch({ n: 1 }), {
      name: 'InvalidInputError',
      message:
        /Unknown parameter 'connectionLimit' in the MySQL URL '.*': known: \?table= \(the jobs table, default jobs\), \?pool= \(connections each process may open, default 4\)/,
    });
    await assert.rejects(openStore(`${db.url}?pool=0`), { name: 'InvalidInputError', message: /Invalid pool size '0'.*from 1 to 1000/ });
    await useEnv(db.url, 0);
    await assert.rejects(new Signup().dispatch({ n: 1 }), { name: 'InvalidInputError', message: /Invalid pool size '0' in JOBS_DISPATCH_POOL/ });
  });
});

describe('store URL parameters and the dispatch pool setting', () => {
  test('every store refuses an unknown parameter with the list of known ones', async () => {
    const cases: Array<[string, RegExp]> = [
      ['mariadb://root@127.0.0.1:3306/app?connectionLimit=10', /Unknown parameter 'connectionLimit' in the MySQL URL .*known: \?table= .*, \?pool= /],
      ['redis://127.0.0.1:6379/0?prefx=app:', /Unknown parameter 'prefx' in the Redis URL .*known: \?prefix= \(the key prefix, default jobs:\)$/],
      ['redis://127.0.0.1:6379/0?pool=5', /Unknown parameter 'pool' in the Redis URL .*no pool to size \(\?pool= is for MySQL\)/],
      ['sqlite:./jobs.sqlite?mode=ro', /Unknown parameter 'mode' in the SQLite URL 'sqlite:\.\/jobs\.sqlite\?mode=ro': it takes none$/],
    ];
    for (const [url, message] of cases) await assert.rejects(openStore(url), { name: 'InvalidInputError', message }, url);
  });

  test('jobs.config sets dispatchPool; JOBS_DISPATCH_POOL wins over it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'jr-dispatch-pool-'));
    const saved = process.env.JOBS_DISPATCH_POOL;
    try {
      delete process.env.JOBS_DISPATCH_POOL;
      writeFileSync(join(dir, 'jobs.config.json'), JSON.stringify({ databaseUrl: 'mysql://app@db/app', dispatchPool: 12 }));
      assert.deepEqual(await resolveDispatchSettings(dir), { databaseUrl: 'mysql://app@db/app', pool: 12 });
      process.env.JOBS_DISPATCH_POOL = '3';
      assert.equal((await resolveDispatchSettings(dir)).pool, 3);
      writeFileSync(join(dir, 'jobs.config.json'), JSON.stringify({ dispatchPool: 'many' }));
      delete process.env.JOBS_DISPATCH_POOL;
      await assert.rejects(resolveDispatchSettings(dir), /Invalid pool size 'many' in .*jobs\.config\.json's dispatchPool/);
    } finally {
      if (saved === undefined) delete process.env.JOBS_DISPATCH_POOL;
      else process.env.JOBS_DISPATCH_POOL = saved;
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

for (const kind of ['mysql', 'redis'] as const) {
  describe(`the link to the store (${kind}) cut while dispatches gather`, () => {
    let mysqlDb: TestDatabase | undefined;
    let redis: TestRedis | undefined;
    let url: string;
    let direct: JobStore;
    before(async () => {
      if (kind === 'mysql') mysqlDb = await createMysqlDatabase('dispatch_cut');
      else redis = await createRedisPrefix('dispatch_cut');
      url = (mysqlDb ?? redis)!.url;
      direct = await openStore(url, { maxConnections: 1 });
      await direct.admin.migrate({});
    });
    after(async () => {
      await direct.close();
      await mysqlDb?.drop();
      await redis?.drop();
    });

    test('every caller in flight or gathered gets an error; each stored all its jobs or none, none twice', { timeout: 60_000 }, async (t) => {
      const target = new URL(url);
      const proxy = await FreezableProxy.start({ host: target.hostname, port: Number(target.port || (kind === 'mysql' ? 3306 : 6379)) });
      const viaProxy = new URL(url);
      viaProxy.host = `127.0.0.1:${proxy.port}`;
      const producer = (await openStore(viaProxy.toString(), { maxConnections: 4, callTimeoutMs: 10_000 })).producer;
      let stored = 0;
      const succeeded = new Map<string, JobId[]>();
      const failed: string[] = [];
      // 50 loops like request handlers, each dispatching 1 to 3 jobs at a time until it fails.
      const loops = Array.from({ length: 50 }, async (_, loop) => {
        for (let seq = 0; seq < 10_000; seq++) {
          const key = `${loop}/${seq}`;
          const n = 1 + ((loop + seq) % 3);
          try {
            const ids = await producer.enqueue({ jobs: Array.from({ length: n }, (_, i) => jobRow({ queue: 'cut', payload: { key, i, n } })) });
            succeeded.set(key, ids);
            stored += n;
          } catch (e) {
            failed.push(key);
            return (e as Error).message;
          }
        }
        return 'never failed';
      });
      await waitFor('1,000 jobs stored through the proxy', () => stored >= 1000, 30_000, 1);
      await proxy.close(); // every connection reset, new ones refused
      const endings = await Promise.all(loops);
      await producer.close();

      assert.equal(failed.length, 50, `every loop ends with an error: ${[...new Set(endings)].join(' | ')}`);
      const rows = (await direct.admin.counts({ queues: ['cut'] }))[0]?.waiting ?? 0;
      const byKey = new Map<string, Array<{ id: JobId; i: number; n: number }>>();
      for (let id = 1, seen = 0; seen < rows && id < 1_000_000; id++) {
        const job = await direct.admin.getJob({ id });
        if (!job) continue;
        seen++;
        const p = JSON.parse(job.payload) as { key: string; i: number; n: number };
        byKey.set(p.key, [...(byKey.get(p.key) ?? []), { id, i: p.i, n: p.n }]);
      }
      for (const [key, jobs] of byKey) {
        assert.deepEqual(
          jobs.map((j) => j.i),
          Array.from({ length: jobs[0]!.n }, (_, i) => i),
          `dispatch ${key}: all its jobs, each once`,
        );
        const ids = succeeded.get(key);
        if (ids)
          assert.deepEqual(
            ids,
            jobs.map((j) => j.id).sort((a, b) => a - b),
            `dispatch ${key}: the ids it was given`,
          );
      }
      for (const key of succeeded.keys()) assert.ok(byKey.has(key), `dispatch ${key} succeeded and is stored`);
      // A write whose reply was cut may have committed: its callers got an error, its jobs are whole.
      const storedButFailed = failed.filter((k) => byKey.has(k)).length;
      t.diagnostic(`${rows} jobs stored in ${byKey.size} dispatches; ${failed.length} failed, ${storedButFailed} of them committed before the cut`);
      t.diagnostic(`errors: ${[...new Set(endings)].join(' | ')}`);
    });
  });
}
