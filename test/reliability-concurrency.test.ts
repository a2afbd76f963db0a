// Several runtimes against one MySQL database: each job runs once. And a job that leaves a
// transaction of its own open (row locks held, connection kept) does not hold up the runtime's
// claims or result writes: those run on the runtime's own connections.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import mysql from 'mysql2/promise';
import { killAll, startCli } from './helpers/cli.ts';
import { createApp, type E2eApp } from './helpers/e2e.ts';
import { countBy, exitWithin, readRecords, waitForBanner } from './helpers/reliability.ts';
import { waitFor } from './helpers/wait.ts';
import { jobRow } from './helpers/job-rows.ts';

after(() => killAll());

describe('concurrency: mysql', () => {
  let app: E2eApp;
  let conn: mysql.Connection;

  before(async () => {
    app = await createApp('mysql', 'rel_concurrency');
    conn = await mysql.createConnection(app.url);
    await conn.query('CREATE TABLE locks (id INT PRIMARY KEY, v INT NOT NULL DEFAULT 0)');
    await conn.query('INSERT INTO locks (id) VALUES (1), (2)');
  });

  after(async () => {
    killAll();
    await conn?.end();
    await app?.close();
  });

  test('4 runtimes (--procs 2) on 2,000 jobs: every job runs exactly once, all done', async () => {
    const file = join(app.dir, 'records.txt');
    const ids = await app.store.producer.enqueue({ jobs: Array.from({ length: 2000 }, (_, n) => jobRow({ handler: 'Records', payload: { file, n } })) });
    const t0 = Date.now();
    const runtimes = Array.from({ length: 4 }, () =>
      startCli(['start', '--procs', '2', '--stop-when-empty', '--quiet', ...app.storeArgs], { cwd: app.dir, timeoutMs: 120_000 }),
    );
    const results = await Promise.all(runtimes.map((r) => exitWithin(r, 90_000)));
    const ms = Date.now() - t0;
    for (const r of results) assert.equal(r.code, 0, r.stderr);
    const records = readRecords(file);
    const runs = countBy(records, (r) => r.id);
    const twice = [...runs].filter(([, n]) => n > 1);
    assert.deepEqual(twice, [], 'no job ran twice');
    assert.deepEqual(
      ids.filter((id) => !runs.has(id)),
      [],
      'no job is missing',
    );
    assert.equal(records.length, 2000);
    assert.equal(await app.count(), 0, 'no row left');
    const completed = results.map((r) => Number(/jobs-runtime stopped: (\d+) completed, 0 failed, 0 retried, 0 given back/.exec(r.stdout)?.[1] ?? NaN));
    assert.equal(
      completed.reduce((a, b) => a + b, 0),
      2000,
      `completions per runtime: ${completed.join(', ')}`,
    );
    const perRuntime = countBy(records, (r) => r.runtimeId);
    console.log(`  4 runtimes, 2000 jobs: ${ms} ms, runs per runtime ${[...perRuntime.values()].join(' / ')}, double runs 0`);
  });

  test("a job's own open transaction (row locks held, never committed) does not block claims or completions", async () => {
    const file = join(app.dir, 'locks.txt');
    const HOLD_MS = 10_000;
    // One stays running while it holds its lock; the other returns at once and leaves its
    // transaction open in its thread until the connection is closed HOLD_MS later.
    const [holding, leaking] = (await app.store.producer.enqueue({
      jobs: [
        jobRow({ handler: 'HoldsLock', payload: { url: app.url, row: 1, holdMs: HOLD_MS, wait: true, file } }),
        jobRow({ handler: 'HoldsLock', payload: { url: app.url, row: 2, holdMs: HOLD_MS, wait: false, file } }),
      ],
    })) as [number, number];
    const rt = startCli(['start', '--procs', '3', ...app.storeArgs], { cwd: app.dir, timeoutMs: 90_000 });
    await waitForBanner(rt);
    await waitFor(
      'both jobs to hold their row locks',
      () =>
        existsSync(file) &&
        readFileSync(file, 'utf8')
          .split('\n')
          .filter((l) => l.startsWith('locked ')).length === 2,
      20_000,
    ).catch(() => {
      throw new Error(`HoldsLock jobs did not take their locks: ${rt.stderr()}`);
    });
    const lockedAt = Date.now();

    const records = join(app.dir, 'after-lock.txt');
    const ids = await app.store.producer.enqueue({
      jobs: Array.from({ length: 300 }, (_, n) => jobRow({ handler: 'Records', payload: { file: records, n } })),
    });
    await waitFor('the 300 jobs dispatched after the locks to complete', async () => (await app.count(`id IN (${ids.join(',')})`)) === 0, HOLD_MS - 2_000);
    const doneMs = Date.now() - lockedAt;
    assert.equal(readRecords(records).length, 300);
    assert.equal(await app.store.admin.getJob({ id: leaking }), null, 'the job that left its transaction open is itself recorded as completed');

    // Both foreign transactions are still open: their rows are still locked.
    for (const row of [1, 2]) {
      await conn.query('START TRANSACTION');
      await assert.rejects(
        conn.query('SELECT * FROM locks WHERE id = ? FOR UPDATE NOWAIT', [row]),
        (e: { errno?: number }) => e.errno === 1205 || e.errno === 3572,
        `row ${row} is still locked by the job's open transaction`,
      );
      await conn.query('ROLLBACK');
    }
    console.log(`  300 jobs claimed and completed in ${doneMs} ms while two job-owned transactions held row locks`);

    await waitFor('the holding job to finish', async () => (await app.store.admin.getJob({ id: holding })) === null, HOLD_MS + 10_000);
    process.kill(rt.pid, 'SIGTERM');
    const r = await exitWithin(rt, 15_000);
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /✖|Store unavailable/, 'no failed job, no store error');
  });
});
