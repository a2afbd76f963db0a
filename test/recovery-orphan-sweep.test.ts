// The orphan sweep: jobs claimed longer than --dead-after by an owner that is not registered
// go back to new. It runs once per period across all runtimes, by the holder of the
// 'orphan-sweep' lease, and (MySQL) finds its candidates with a plain read, so a lock a live
// runtime holds on one of its own processing rows (a result write in progress) cannot hold it up.
// The runtimes here take only the queue `work`, so the orphans stay where the sweep put them.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import mysql from 'mysql2/promise';
import { killAll, startCli, type RunningCli } from './helpers/cli.ts';
import { ALL_STORE_KINDS, createApp, type E2eApp } from './helpers/e2e.ts';
import { jobRow } from './helpers/job-rows.ts';
import { waitFor } from './helpers/wait.ts';

after(killAll);

const RUNTIME = ['start', '--procs', '1', '--queue', 'work', '--heartbeat', '0.2', '--dead-after', '1', '--grace', '1'];
const GAVE_BACK = /Gave back (\d+) job\(s\) claimed over 1 s ago by owners that are not registered/g;
/** The counts of the sweep's lines a runtime printed. */
const sweeps = (rt: RunningCli) => [...rt.stderr().matchAll(GAVE_BACK)].map((m) => Number(m[1]));

async function startRuntimes(app: E2eApp, n: number): Promise<RunningCli[]> {
  const rts = Array.from({ length: n }, () => startCli([...RUNTIME, ...app.storeArgs], { cwd: app.dir, timeoutMs: 60_000 }));
  for (const rt of rts) await waitFor('a runtime to start', () => rt.stdout().includes(' started: '), 20_000);
  return rts;
}

async function stop(rts: RunningCli[]): Promise<void> {
  for (const rt of rts) rt.child.kill('SIGTERM');
  for (const rt of rts) assert.equal((await rt.done).code, 0);
}

/** Enqueues `n` jobs on `queue` and claims them as `owner`, which is not registered. */
async function orphans(app: E2eApp, queue: string, n: number, owner = 'ghost'): Promise<number[]> {
  const ids = await app.store.producer.enqueue({ jobs: Array.from({ length: n }, () => jobRow({ queue })) });
  assert.equal((await app.store.queue.claim({ owner, queues: [queue], limit: n })).length, n);
  return ids;
}

const allNew = async (app: E2eApp, ids: number[]) => {
  for (const id of ids) if ((await app.store.admin.getJob({ id }))?.status !== 'new') return false;
  return true;
};

for (const kind of ALL_STORE_KINDS) {
  describe(`orphan sweep: ${kind}`, () => {
    test('one runtime sweeps, under the lease; the orphans go back once', async () => {
      const app = await createApp(kind, 'orphan_sweep');
      try {
        const rts = await startRuntimes(app, 2);
        const ids = await orphans(app, 'orphans', 3);
        await waitFor('the orphans to go back to new', () => allNew(app, ids), 10_000);
        await waitFor('the sweep to say so', () => rts.some((rt) => sweeps(rt).length > 0), 5_000);
        const said = rts.map(sweeps);
        assert.deepEqual(said.flat(), [3], `one line from one runtime: ${JSON.stringify(said)}`);
        assert.equal(await app.store.registry.acquireLease({ name: 'orphan-sweep', owner: 'probe', ttlMs: 1 }), false, 'a runtime holds the lease');
        // A second batch goes to the same holder: the lease stays with a live runtime.
        const more = await orphans(app, 'orphans', 2, 'ghost-2');
        await waitFor('the second batch to go back', () => allNew(app, more), 10_000);
        const holder = said.findIndex((s) => s.length > 0);
        await waitFor('the holder to say so', () => sweeps(rts[holder]!).length === 2, 5_000);
        assert.deepEqual(sweeps(rts[1 - holder]!), [], 'the other runtime never swept');
        await stop(rts);
      } finally {
        await app.close();
      }
    });
  });
}

describe('orphan sweep: mysql, next to a result write in progress', () => {
  test('a row lock a live runtime holds holds up neither the sweep nor the recovery of a dead runtime', async () => {
    const app = await createApp('mysql', 'orphan_sweep_locks');
    const locker = await mysql.createConnection(app.url);
    try {
      // A table as production has one, mostly waiting jobs, so the optimizer reads processing
      // rows through the claim index (status first), as it does at scale: a scan that way locks
      // each row it passes (on a tiny table it scans the primary key, whose row locks InnoDB can
      // skip when the committed row does not match).
      await app.store.producer.enqueue({ jobs: Array.from({ length: 2_000 }, () => jobRow({ queue: 'idle' })) });
      await locker.query('ANALYZE TABLE jobs');
      // A live runtime (its heartbeat never goes stale here) with a job whose row is locked, as
      // a result write of it in an open transaction would; and orphans beside it.
      await app.store.registry.registerRuntime({ runtime: { id: 'live-x', host: 'elsewhere', pid: 1, queues: null, threads: 1 } });
      await locker.query("UPDATE jobs_runtimes SET heartbeat_at = UTC_TIMESTAMP(3) + INTERVAL 1 DAY WHERE id = 'live-x'");
      const [held] = await orphans(app, 'held', 1, 'live-x');
      // And a dead runtime (silent for an hour) with a job of its own.
      await app.store.registry.registerRuntime({ runtime: { id: 'dead-x', host: 'elsewhere', pid: 2, queues: null, threads: 1 } });
      const [deadJob] = await orphans(app, 'dead', 1, 'dead-x');
      await locker.query("UPDATE jobs_runtimes SET heartbeat_at = UTC_TIMESTAMP(3) - INTERVAL 1 HOUR WHERE id = 'dead-x'");
      await locker.query('START TRANSACTION');
      await locker.query('UPDATE jobs SET attempts = attempts WHERE id = ?', [held]);
      const ids = await orphans(app, 'orphans', 2);
      // Before, both UPDATEs waited on that lock (innodb_lock_wait_timeout, 50 s by default), the
      // first of them inside the runtime's start: it did not even start.
      const rts = await startRuntimes(app, 1);
      await waitFor('the orphans and the dead runtime’s job to go back to new while the lock is held', () => allNew(app, [...ids, deadJob!]), 8_000);
      await locker.query('ROLLBACK');
      const row = await app.store.admin.getJob({ id: held! });
      assert.deepEqual([row?.status, row?.owner], ['processing', 'live-x'], "the live runtime's job is left alone");
      await stop(rts);
    } finally {
      await locker.end().catch(() => undefined);
      await app.close();
    }
  });
});
