// tx: dispatch inside the application's own transaction (README, "Dispatching in a transaction").
//   cost: the app's transaction (take a connection, BEGIN, INSERT an order, COMMIT) timed with
//         and without one dispatch in it, interleaved, per library; no runtime running.
//   commit-to-start: with an idle `start --procs 2`, single transactions 20 ms apart, each
//         dispatching one job; from the moment the app's commit returned until the job began.
// MySQL: mysql2 and Knex (the commit is seen: woken at once) and Kysely (the commit is out of
// sight: the dispatcher watches for the row). SQLite: better-sqlite3 (watched too).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import createKnex from 'knex';
import { Kysely, MysqlDialect, sql } from 'kysely';
import { createPool } from 'mysql2';
import mysql from 'mysql2/promise';
import TxStart from '../jobs/TxStart.mjs';
import { freshStore, now, pct, result, sleep, startRuntime, type StoreKind } from '../lib.ts';

/** One library's transaction: `dispatch` (when given) runs inside it; resolves once committed, to the dispatch's id. */
interface Library {
  name: string;
  transact(dispatch: ((trx: unknown) => Promise<number>) | null): Promise<number>;
  close(): Promise<void>;
}

function mysqlLibraries(url: string): Library[] {
  const pool = mysql.createPool({ uri: url, connectionLimit: 4 });
  const knex = createKnex({ client: 'mysql2', connection: url, pool: { min: 0, max: 4 } });
  const kysely = new Kysely<{ orders: { id: import('kysely').Generated<number>; customer: string } }>({
    dialect: new MysqlDialect({ pool: createPool({ uri: url, connectionLimit: 4 }) }),
  });
  return [
    {
      name: 'mysql2',
      async transact(dispatch) {
        const conn = await pool.getConnection();
        try {
          await conn.beginTransaction();
          await conn.query('INSERT INTO orders (customer) VALUES (?)', ['ann']);
          const id = dispatch ? await dispatch(conn) : 0;
          await conn.commit();
          return id;
        } finally {
          conn.release();
        }
      },
      close: () => pool.end(),
    },
    {
      name: 'knex',
      transact: (dispatch) =>
        knex.transaction(async (trx) => {
          await trx('orders').insert({ customer: 'ann' });
          return dispatch ? dispatch(trx) : 0;
        }),
      close: () => knex.destroy(),
    },
    {
      name: 'kysely',
      transact: (dispatch) =>
        kysely.transaction().execute(async (trx) => {
          await sql`INSERT INTO orders (customer) VALUES (${'ann'})`.execute(trx);
          return dispatch ? dispatch(trx) : 0;
        }),
      close: () => kysely.destroy(),
    },
  ];
}

function sqliteLibrary(file: string): Library {
  const db = new Database(file, { timeout: 10_000 });
  let dispatched: Promise<number> = Promise.resolve(0);
  const tx = db.transaction((dispatch: ((trx: unknown) => Promise<number>) | null) => {
    db.prepare('INSERT INTO orders (customer) VALUES (?)').run('ann');
    dispatched = dispatch ? dispatch(db) : Promise.resolve(0); // written synchronously; the id settles after
  });
  return {
    name: 'better-sqlite3',
    async transact(dispatch) {
      tx(dispatch);
      return dispatched;
    },
    close: async () => db.close(),
  };
}

const spread = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return { p50: pct(s, 50), p99: pct(s, 99) };
};

export async function txDispatch(kind: StoreKind, sizes: { calls: number; latency: number }): Promise<Record<string, number>> {
  if (kind === 'redis') throw new Error('tx: Redis refuses dispatch in a transaction; use --store mysql or sqlite');
  const b = await freshStore(kind, 'tx');
  const dir = mkdtempSync(join(tmpdir(), 'jr-tx-'));
  const out: Record<string, number> = {};
  let libraries: Library[] = [];
  // The cost phase's jobs are deleted before the runtime starts: it is to be idle.
  let setup: (sql: string) => Promise<void>;
  let closeAdmin: () => Promise<void>;
  if (kind === 'mysql') {
    const admin = await mysql.createConnection(b.url);
    setup = async (q) => void (await admin.query(q));
    await setup('CREATE TABLE orders (id INT AUTO_INCREMENT PRIMARY KEY, customer VARCHAR(100) NOT NULL)');
    libraries = mysqlLibraries(b.url);
    closeAdmin = () => admin.end();
  } else {
    const file = b.url.replace(/^sqlite:/, '');
    const admin = new Database(file, { timeout: 10_000 });
    setup = async (q) => void admin.exec(q);
    await setup('CREATE TABLE orders (id INTEGER PRIMARY KEY, customer TEXT NOT NULL)');
    libraries = [sqliteLibrary(file)];
    closeAdmin = async () => void admin.close();
  }
  try {
    const file = join(dir, 'started.txt');
    const dispatch = (trx: unknown) => new TxStart().dispatch({ file }, { transaction: trx });

    // Cost, with no runtime: the dispatched jobs just stay in the table.
    for (const lib of libraries) {
      for (let i = 0; i < 50; i++) await lib.transact(i % 2 ? dispatch : null); // connections open, code warm
      const plain: number[] = [];
      const withJob: number[] = [];
      for (let i = 0; i < sizes.calls; i++) {
        for (const [times, d] of (i % 2
          ? [
              [plain, null],
              [withJob, dispatch],
            ]
          : [
              [withJob, dispatch],
              [plain, null],
            ]) as Array<[number[], typeof dispatch | null]>) {
          const t = now();
          await lib.transact(d);
          times.push(now() - t);
        }
      }
      const p = spread(plain);
      const w = spread(withJob);
      const figures = {
        [`tx-${lib.name}-plain-p50`]: p.p50,
        [`tx-${lib.name}-plain-p99`]: p.p99,
        [`tx-${lib.name}-with-dispatch-p50`]: w.p50,
        [`tx-${lib.name}-with-dispatch-p99`]: w.p99,
        [`tx-${lib.name}-added-p50`]: w.p50 - p.p50,
        [`tx-${lib.name}-added-p99`]: w.p99 - p.p99,
      };
      for (const [k, v] of Object.entries(figures)) result(kind, k, v, 'ms');
      Object.assign(out, figures);
    }
    await setup('DELETE FROM jobs');

    // Commit-to-start, with an idle runtime (it polls at its default --sleep; a sooner start is a wake-up).
    const runtime = startRuntime(b.url, ['--procs', '2']);
    try {
      await runtime.ready;
      for (const lib of libraries) {
        const committed = new Map<number, number>();
        const first = Date.now() + 50;
        for (let i = 0; i < sizes.latency; i++) {
          const wait = first + i * 20 - Date.now();
          if (wait > 0) await sleep(wait);
          const id = await lib.transact(dispatch);
          committed.set(id, now());
        }
        const started = await startsOf(file, committed, 20_000);
        const lat = spread([...committed].map(([id, at]) => started.get(id)! - at));
        result(kind, `tx-${lib.name}-commit-to-start-p50`, lat.p50, 'ms');
        result(kind, `tx-${lib.name}-commit-to-start-p99`, lat.p99, 'ms');
        out[`tx-${lib.name}-commit-to-start-p50`] = lat.p50;
        out[`tx-${lib.name}-commit-to-start-p99`] = lat.p99;
      }
    } finally {
      await runtime.stop();
    }
    return out;
  } finally {
    for (const lib of libraries) await lib.close();
    await closeAdmin();
    await b.drop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** When each of the committed jobs started, read from the jobs' file once all have. */
async function startsOf(file: string, committed: Map<number, number>, deadlineMs: number): Promise<Map<number, number>> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    const started = new Map<number, number>();
    try {
      for (const line of readFileSync(file, 'utf8').split('\n').filter(Boolean)) {
        const [id, at] = line.split(' ').map(Number) as [number, number];
        started.set(id, at);
      }
    } catch {}
    if ([...committed.keys()].every((id) => started.has(id))) return started;
    if (Date.now() > deadline) throw new Error(`tx: ${[...committed.keys()].filter((id) => !started.has(id)).length} committed jobs did not start`);
    await sleep(25);
  }
}
