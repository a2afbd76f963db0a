// What only the Redis store has: key prefixes, per-owner claim records, an idle connection that
// must not hold the process, and failing fast while Redis is down. The shared cases are in
// test/conformance-*.test.ts.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { StoreUnavailableError } from '../src/errors.ts';
import { openStore } from '../src/stores/open-store.ts';
import type { ClaimedJob, JobStore } from '../src/stores/store.ts';
import { createRedisPrefix, scanKeys, type TestRedis } from './helpers/redis.ts';
import { claimsById, jobRow } from './helpers/job-rows.ts';

const REPO = new URL('..', import.meta.url);
const numbers = (members: string[]) => members.map(Number).sort((a, b) => a - b);
const activeTimers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

describe('Redis store', () => {
  let redis: TestRedis;
  let store: JobStore;
  before(async () => {
    redis = await createRedisPrefix('redis_store');
    store = await openStore(redis.url);
  });
  after(async () => {
    await store?.close();
    await redis?.drop();
  });

  test('queue names no job refers to any more are forgotten when pruning, and come back with a new job', async () => {
    const queues = () => redis.client.smembers(`${redis.prefix}queues`);
    const [done] = await store.producer.enqueue({ jobs: [jobRow({ queue: 'forget-me' })] });
    await store.producer.enqueue({ jobs: [jobRow({ queue: 'keep-waiting' })] });
    const [failing] = await store.producer.enqueue({ jobs: [jobRow({ queue: 'keep-failed' })] });
    const claimed: ClaimedJob[] = [];
    for (const q of ['forget-me', 'keep-failed']) {
      claimed.push(...(await store.queue.claim({ owner: 'r1', queues: [q], limit: 1 })));
    }
    assert.deepEqual(
      claimed.map((c) => c.id),
      [done, failing],
    );
    const claim = claimsById(claimed);
    await store.queue.record({
      owner: 'r1',
      results: [
        { ...claim(done!), queue: 'forget-me', outcome: 'completed' },
        { ...claim(failing!), queue: 'keep-failed', outcome: 'failed', error: 'x' },
      ],
    });
    assert.ok((await queues()).includes('forget-me'));
    await store.admin.prune({ completedOlderThanMs: null, failedOlderThanMs: null, batchSize: 2 });
    const left = await queues();
    assert.ok(!left.includes('forget-me'), `forgotten: ${left.join(', ')}`);
    assert.ok(left.includes('keep-waiting') && left.includes('keep-failed'), `kept: ${left.join(', ')}`);
    await store.producer.enqueue({ jobs: [jobRow({ queue: 'forget-me' })] });
    assert.ok((await queues()).includes('forget-me'));
    assert.equal((await store.admin.counts({})).find((c) => c.queue === 'forget-me')?.waiting, 1);
  });

  test('two key prefixes on one Redis never see each other’s jobs', async () => {
    const other = await createRedisPrefix('redis_store_other');
    const otherStore = await openStore(other.url);
    try {
      const [mine] = await store.producer.enqueue({ jobs: [jobRow({ queue: 'iso', payload: '{"app":"a"}' })] });
      const [theirs] = await otherStore.producer.enqueue({ jobs: [jobRow({ queue: 'iso', payload: '{"app":"b"}' })] });
      assert.equal((await store.admin.getJob({ id: mine! }))!.payload, '{"app":"a"}');
      assert.equal((await otherStore.admin.getJob({ id: theirs! }))!.payload, '{"app":"b"}');
      const claimed = await otherStore.queue.claim({ owner: 'b', queues: null, limit: 10 });
      assert.deepEqual(
        claimed.map((j) => j.payload),
        ['{"app":"b"}'],
        'a claim takes only its own prefix’s jobs',
      );
      assert.deepEqual((await store.admin.counts({ queues: ['iso'] }))[0], { queue: 'iso', waiting: 1, delayed: 0, processing: 0, failed: 0 });
      assert.ok((await scanKeys(redis.client, redis.prefix)).length > 0);
      assert.ok((await scanKeys(other.client, other.prefix)).length > 0);
      await other.drop();
      assert.equal((await store.admin.getJob({ id: mine! }))!.status, 'new', 'cleaning up one prefix leaves the other alone');
    } finally {
      await otherStore.close();
      await other.drop();
    }
  });

  test('the default prefix is jobs:, and the display URL hides the password', async () => {
    const s = (await openStore('redis://app:s3cret@127.0.0.1:6379/0')) as JobStore & { prefix: string };
    assert.equal(s.prefix, 'jobs:');
    assert.equal(s.displayUrl.includes('s3cret'), false);
    await s.close();
    await assert.rejects(openStore('redis://127.0.0.1:6379/0?prefx=app:'), { name: 'InvalidInputError', message: /Unknown parameter 'prefx'/ });
  });

  test('4 stores racing on 2,000 jobs: each claim is recorded under its owner, and nothing else is', async () => {
    const ids = await store.producer.enqueue({ jobs: Array.from({ length: 2000 }, (_, i) => jobRow({ queue: 'owners', payload: JSON.stringify({ i }) })) });
    const claimers = await Promise.all([0, 1, 2, 3].map(() => openStore(redis.url)));
    try {
      const got = await Promise.all(
        claimers.map(async (s, n) => {
          const mine: ClaimedJob[] = [];
          for (;;) {
            const batch = await s.queue.claim({ owner: `racer-${n}`, queues: ['owners'], limit: 37 });
            if (batch.length === 0) return mine;
            mine.push(...batch);
          }
        }),
      );
      assert.deepEqual(numbers(got.flat().map((c) => String(c.id))), ids, 'every job claimed exactly once');
      for (const [n, claims] of got.entries()) {
        const mine = claims.map((c) => c.id);
        const recorded = await redis.client.smembers(`${redis.prefix}owner:racer-${n}`);
        assert.deepEqual(
          numbers(recorded),
          [...mine].sort((a, b) => a - b),
          `owner racer-${n}’s record is what it claimed`,
        );
        const sample = (await store.admin.getJob({ id: mine[0]! }))!;
        assert.deepEqual([sample.status, sample.owner], ['processing', `racer-${n}`]);
      }
      assert.equal(await redis.client.zcard(`${redis.prefix}ready:owners`), 0, 'no claimed job is still due');
      assert.equal(await redis.client.zcard(`${redis.prefix}due:owners`), 0, 'no claimed job is still scheduled');
      assert.equal(await redis.client.zcard(`${redis.prefix}active:owners`), 2000);
      assert.deepEqual((await redis.client.zrange(`${redis.prefix}owners`, 0, -1)).sort(), ['racer-0', 'racer-1', 'racer-2', 'racer-3']);

      // Results and releases clear the records: an owner holding nothing is no longer listed.
      for (const [n, mine] of got.entries()) {
        const [first, ...rest] = mine;
        await store.queue.release({ owner: `racer-${n}`, jobs: [first!] });
        await store.queue.record({
          owner: `racer-${n}`,
          results: rest.map((c) => ({ id: c.id, token: c.token, queue: 'owners', outcome: 'completed' as const })),
        });
      }
      assert.equal(await redis.client.zcard(`${redis.prefix}owners`), 0);
      assert.equal(await redis.client.zcard(`${redis.prefix}active:owners`), 0);
      assert.equal(await redis.client.zcard(`${redis.prefix}ready:owners`), 4, 'the released jobs are due again');
    } finally {
      await Promise.all(claimers.map((s) => s.close()));
    }
  });

  test('an app script that only dispatches exits by itself within 5 s, Redis up or down', async () => {
    const up = await runAppScript(
      `class Ping extends Job { run() {} }
       console.log(await new Ping().dispatch({ n: 1 }));
       console.log(await new Ping().dispatch({ n: 2 }));`,
      redis.url,
    );
    assert.equal(up.code, 0, `exit code ${up.code}: ${up.err}`);
    assert.ok(up.ms < 5_000, `the script took ${up.ms} ms to exit`);
    const ids = up.out.trim().split('\n').map(Number);
    assert.equal(ids.length, 2, `printed ${up.out}`);
    assert.equal((await store.admin.getJob({ id: ids[1]! }))!.payload, '{"n":2}', 'the dispatch was stored before the exit');

    const down = await runAppScript(
      `class Ping extends Job { run() {} }
       try { await new Ping().dispatch({}); } catch (e) { console.log(e.name); }`,
      'redis://127.0.0.1:6390/0',
    );
    assert.equal(down.code, 0, `exit code ${down.code}: ${down.err}`);
    assert.equal(down.out.trim(), 'StoreUnavailableError');
    assert.ok(down.ms < 5_000, `the script took ${down.ms} ms to exit after the failed dispatch`);
  });

  test('Redis down: StoreUnavailableError at once, saying how to check it; nothing left holding the process', async () => {
    const timersBefore = activeTimers();
    const down = await openStore('redis://127.0.0.1:6390/0');
    try {
      for (const op of [
        () => down.producer.enqueue({ jobs: [jobRow()] }),
        () => down.queue.claim({ owner: 'o', queues: null, limit: 1 }),
        () => down.admin.counts({}),
      ]) {
        const started = Date.now();
        await assert.rejects(op(), (e: Error) => {
          assert.ok(e instanceof StoreUnavailableError, `${e.name}: ${e.message}`);
          assert.match(e.message, /Cannot reach Redis at redis:\/\/127\.0\.0\.1:6390\/0 \(ECONNREFUSED\)/);
          assert.match(e.message, /redis-cli -h 127\.0\.0\.1 -p 6390 ping/);
          return true;
        });
        assert.ok(Date.now() - started < 1_000, `failed after ${Date.now() - started} ms`);
      }
      assert.equal(activeTimers(), timersBefore, 'no timer is left behind by the failed connects');
    } finally {
      await down.close();
    }
    assert.equal(activeTimers(), timersBefore, 'closing leaves no timer behind');
  });

  test('a server that accepts connections but never answers: StoreUnavailableError within the connect deadline', async () => {
    const sockets: Socket[] = [];
    const silent: Server = createServer((s) => sockets.push(s));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as { port: number }).port;
    const hung = await openStore(`redis://127.0.0.1:${port}/0`);
    try {
      const started = Date.now();
      await assert.rejects(hung.producer.enqueue({ jobs: [jobRow()] }), (e: Error) => {
        assert.ok(e instanceof StoreUnavailableError, `${e.name}: ${e.message}`);
        assert.match(e.message, /Cannot reach Redis/);
        return true;
      });
      const ms = Date.now() - started;
      assert.ok(ms >= 4_000 && ms < 7_000, `failed after ${ms} ms`);
    } finally {
      await hung.close();
      for (const s of sockets) s.destroy();
      silent.close();
    }
  });

  test('times come from Redis TIME: created_at is the server’s now, the due time is it plus the delay', async () => {
    const [sec, usec] = await redis.client.time();
    const serverNow = Number(sec) * 1000 + Math.floor(Number(usec) / 1000);
    const [id] = await store.producer.enqueue({ jobs: [jobRow({ queue: 'clock', delayMs: 60_000 })] });
    const row = (await store.admin.getJob({ id: id! }))!;
    assert.ok(Math.abs(row.createdAt.getTime() - serverNow) < 1_000);
    assert.equal(row.scheduledAt.getTime() - row.createdAt.getTime(), 60_000);
  });
});

/** Runs `body` as an application's ES module (Job imported from this repo) with JOBS_DATABASE_URL = url. */
async function runAppScript(body: string, url: string): Promise<{ code: number | null; ms: number; out: string; err: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'jr-redis-app-'));
  try {
    const script = join(dir, 'app.mjs');
    writeFileSync(script, `import { Job } from ${JSON.stringify(new URL('src/index.ts', REPO).href)};\n${body}\n`);
    const started = Date.now();
    const child = spawn(process.execPath, ['--import', 'tsx', script], {
      cwd: new URL('.', REPO).pathname,
      env: { ...process.env, JOBS_DATABASE_URL: url },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    clearTimeout(killer);
    return { code, ms: Date.now() - started, out, err };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
