// A flood of wake-ups costs an idle runtime a bounded number of claims: 20,000 signals in about
// a second, half PUBLISHed on the store's wake channel (as any client of that Redis could) and
// half as datagrams to the runtime's same-host UDP port, count against one budget (a burst of
// 5, then one claim per 20 ms). Counted on a private redis-server, where every script call is
// this runtime's: claims, heartbeats, the sweep's lease (INFO commandstats, EVALSHA and EVAL).
// Counted the same way: one dispatch that reaches the runtime by two paths costs one claim.
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { killAll, parseJobLines, startCli } from './helpers/cli.ts';
import { dispatchJobs } from '../src/dispatcher.ts';
import { openStore } from '../src/stores/open-store.ts';
import { JOBS_DIR } from './helpers/e2e.ts';
import { jobRow } from './helpers/job-rows.ts';
import { startRedis, stopRedis, type PrivateRedis } from './helpers/private-redis.ts';
import { sleep, waitFor } from './helpers/wait.ts';

const dir = mkdtempSync(join(tmpdir(), 'jr-wake-flood-'));
const servers: PrivateRedis[] = [];
after(async () => {
  killAll();
  for (const r of servers) await stopRedis(r);
  rmSync(dir, { recursive: true, force: true });
});

async function privateRedis(): Promise<PrivateRedis> {
  const r = await startRedis(mkdtempSync(join(dir, 'redis-')));
  servers.push(r);
  return r;
}

async function scriptCalls(r: PrivateRedis): Promise<number> {
  const stats = await r.admin.info('commandstats');
  let n = 0;
  for (const m of stats.matchAll(/^cmdstat_(?:evalsha|eval):calls=(\d+)/gm)) n += Number(m[1]);
  return n;
}

test('20,000 wake-ups in about a second cost at most a burst and one claim per 20 ms; a real dispatch still gets through', async () => {
  const redis = await privateRedis();
  const url = `redis://127.0.0.1:${redis.port}/0?prefix=flood:`;
  const wakeDir = join(dir, 'wake');
  const rt = startCli(['start', '--procs', '1', '--sleep', '60', '--heartbeat', '5', '--jobs-dir', JOBS_DIR, '--database-url', url], {
    cwd: dir,
    env: { JOBS_WAKE_DIR: wakeDir },
    timeoutMs: 60_000,
  });
  await waitFor('the runtime to start', () => rt.stdout().includes(' started: '), 20_000);
  assert.match(rt.stdout(), /\+ wake-up \(pub\/sub\)/);
  const [storeDir] = readdirSync(wakeDir);
  const port = Number(readdirSync(join(wakeDir, storeDir!))[0]!.split('-')[0]);
  const udp = createSocket('udp4');
  const before = await scriptCalls(redis);
  const t0 = performance.now();
  for (let round = 0; round < 100; round++) {
    const pipeline = redis.admin.pipeline();
    for (let i = 0; i < 100; i++) pipeline.publish('flood:wake', '1');
    await pipeline.exec();
    for (let i = 0; i < 100; i++) udp.send(Buffer.from([1]), port, '127.0.0.1');
    await new Promise((r) => setTimeout(r, 10));
  }
  const elapsed = performance.now() - t0;
  udp.close();
  // The one deferred wake-up after the flood, then the count.
  await new Promise((r) => setTimeout(r, 100));
  const calls = (await scriptCalls(redis)) - before;
  // Claims: a burst of 5, one per 20 ms, the deferred one; beside them at most a heartbeat (with
  // its recovery) and a sweep period (lease, sweep) or two in this time.
  const bound = 5 + Math.ceil((elapsed + 100) / 20) + 1 + 6;
  console.log(`FLOOD: 20,000 signals in ${Math.round(elapsed)} ms → ${calls} script calls (bound ${bound})`);
  assert.ok(calls <= bound, `${calls} script calls for 20,000 signals in ${Math.round(elapsed)} ms (bound ${bound})`);
  // A real dispatch right after is not lost in the flood's budget (the poll would take 60 s).
  const store = await openStore(url);
  const t1 = Date.now();
  await store.producer.enqueue({ jobs: [jobRow({ handler: 'Ok' })] });
  await store.close();
  await waitFor('the dispatched job to run', () => rt.stdout().includes('✔ Job processed successfully'), 5_000);
  assert.ok(Date.now() - t1 < 2_000, `ran ${Date.now() - t1} ms after its dispatch`);
  rt.child.kill('SIGTERM');
  const r = await rt.done;
  assert.equal(r.code, 0, r.stderr);
});

test('a dispatch that reaches the runtime by the datagram and by pub/sub costs one claim', async () => {
  const redis = await privateRedis();
  const url = `redis://127.0.0.1:${redis.port}/0?prefix=paths:`;
  // One dispatch reaches an idle runtime by two paths (the same-host datagram, and the store's
  // own: Redis pub/sub here, a registered address on MySQL); it must cost one claim, not two.
  // A second claim per dispatch also spent a second wake-up token, so at 50 dispatches/s nearly
  // every wake-up waited ~10 ms for a token. --sleep 60: every claim here is a wake-up's.
  const rt = startCli(['start', '--procs', '1', '--sleep', '60', '--heartbeat', '5', '--jobs-dir', JOBS_DIR, '--database-url', url], {
    cwd: dir,
    timeoutMs: 60_000,
  });
  await waitFor('the runtime to start', () => rt.stdout().includes(' started: '), 20_000);
  assert.match(rt.stdout(), /\+ wake-up \(pub\/sub\)/);
  const store = await openStore(url);
  const n = 30;
  const before = await scriptCalls(redis);
  const t0 = performance.now();
  for (let i = 1; i <= n; i++) {
    await dispatchJobs(class Ok {}, [jobRow()], store.producer);
    await waitFor(`job ${i} to run`, () => parseJobLines(rt.stdout()).ok.length >= i, 5_000, 2);
    await sleep(40); // further apart than the wake-up budget's 20 ms: no signal is deferred
  }
  await sleep(100); // the last result written
  const calls = (await scriptCalls(redis)) - before;
  await store.close();
  // Per dispatch: its enqueue, one claim, one result; beside them, per 5 s heartbeat period, a
  // heartbeat (with its recovery) and a sweep period (lease, sweep). Two claims per dispatch would be 4n.
  const bound = 3 * n + 4 * Math.ceil((performance.now() - t0) / 5_000) + 4;
  console.log(`TWO PATHS: ${n} dispatches → ${calls} script calls (bound ${bound})`);
  assert.ok(calls <= bound, `${calls} script calls for ${n} dispatches (bound ${bound}): a dispatch was claimed for twice`);
  rt.child.kill('SIGTERM');
  const r = await rt.done;
  assert.equal(r.code, 0, r.stderr);
});
