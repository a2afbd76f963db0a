// What a runtime says about a Redis that may lose its jobs: at start, when the server persists
// nothing (appendonly no, save "") or may evict the keys that expire (a volatile-* policy); and
// when the server comes back as another process (a new run_id), naming the jobs the runtime held
// then. Private redis-servers on ports of their own,
// killed by pid (a crash) and started again on the same port.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { openStore } from '../src/stores/open-store.ts';
import { killAll, runCli, startCli } from './helpers/cli.ts';
import { JOBS_DIR } from './helpers/e2e.ts';
import { startRedis, stopRedis, type PrivateRedis } from './helpers/private-redis.ts';
import { jobRow } from './helpers/job-rows.ts';
import { waitFor } from './helpers/wait.ts';

const PERSISTS_NOTHING =
  /WARN {2}Redis at redis:\/\/127\.0\.0\.1:\d+\/0\?prefix=honest: persists nothing \(appendonly no, save ""\): if it restarts, every job in it is lost/;

describe('Redis honesty', () => {
  const dir = mkdtempSync(join(tmpdir(), 'jr-redis-honesty-'));
  const servers: PrivateRedis[] = [];
  after(async () => {
    killAll();
    for (const r of servers) await stopRedis(r);
    rmSync(dir, { recursive: true, force: true });
  });
  const url = (r: PrivateRedis) => `redis://127.0.0.1:${r.port}/0?prefix=honest:`;

  test('start warns when the server persists nothing, and not when it keeps an AOF', async () => {
    const bare = await startRedis(mkdtempSync(join(dir, 'bare-')));
    const aof = await startRedis(mkdtempSync(join(dir, 'aof-')), { persist: true });
    servers.push(bare, aof);
    const warned = await runCli(['start', '--procs', '1', '--stop-when-empty', '--jobs-dir', JOBS_DIR, '--database-url', url(bare)], {
      cwd: dir,
      timeoutMs: 30_000,
    });
    assert.equal(warned.code, 0, warned.stderr);
    assert.match(warned.stderr, PERSISTS_NOTHING);
    const quiet = await runCli(['start', '--procs', '1', '--stop-when-empty', '--jobs-dir', JOBS_DIR, '--database-url', url(aof)], {
      cwd: dir,
      timeoutMs: 30_000,
    });
    assert.equal(quiet.code, 0, quiet.stderr);
    assert.doesNotMatch(quiet.stderr, /persists nothing/);
    assert.doesNotMatch(quiet.stderr + warned.stderr, /maxmemory-policy/, 'noeviction (the default) is not warned about');
  });

  test('start warns when a volatile-* eviction policy under a memory limit may drop the keys that expire', async () => {
    const volatile = await startRedis(mkdtempSync(join(dir, 'volatile-')), {
      persist: true,
      args: ['--maxmemory', '64mb', '--maxmemory-policy', 'volatile-lru'],
    });
    servers.push(volatile);
    const warned = await runCli(['start', '--procs', '1', '--stop-when-empty', '--jobs-dir', JOBS_DIR, '--database-url', url(volatile)], {
      cwd: dir,
      timeoutMs: 30_000,
    });
    assert.equal(warned.code, 0, warned.stderr);
    assert.match(
      warned.stderr,
      /WARN {2}Redis at redis:\/\/127\.0\.0\.1:\d+\/0\?prefix=honest: has maxmemory-policy volatile-lru: under memory pressure it evicts keys that expire, which here are unique keys' 'for' windows, rate-limit windows and leases \(never jobs\)/,
    );
    assert.doesNotMatch(warned.stderr, /persists nothing/, 'an AOF server keeps its jobs');
  });

  test('a server that comes back empty (a new run_id) is reported, with the jobs the runtime held', async () => {
    let redis = await startRedis(mkdtempSync(join(dir, 'restart-')));
    servers.push(redis);
    const store = await openStore(url(redis));
    const ids = await store.producer.enqueue({ jobs: [1, 2].map(() => jobRow({ handler: 'Sleeps', payload: '{"ms":30000}' })) });
    await store.close();
    const rt = startCli(['start', '--procs', '2', '--sleep', '0.2', '--grace', '1', '--jobs-dir', JOBS_DIR, '--database-url', url(redis)], {
      cwd: dir,
      timeoutMs: 60_000,
    });
    await waitFor('the runtime to start', () => rt.stdout().includes(' started: '), 20_000);
    const oldRunId = /run_id:(\w+)/.exec(await redis.admin.info('server'))![1]!;
    await waitFor('both jobs to run', async () => Number(await redis.admin.zcard('honest:active:default')) === 2, 10_000);

    // A crash and a restart on the same port: the new process keeps nothing.
    await stopRedis(redis);
    redis = await startRedis(mkdtempSync(join(dir, 'restart-')), { port: redis.port });
    servers.push(redis);
    const newRunId = /run_id:(\w+)/.exec(await redis.admin.info('server'))![1]!;
    assert.notEqual(newRunId, oldRunId);
    const line = await waitFor(
      'the warning',
      () =>
        rt
          .stderr()
          .split('\n')
          .find((l) => l.includes('came back as a different server')),
      15_000,
    );
    assert.match(
      line,
      new RegExp(
        `WARN {2}Redis at redis://127\\.0\\.0\\.1:${redis.port}/0\\?prefix=honest: came back as a different server \\(run_id ${oldRunId.slice(0, 8)} → ${newRunId.slice(0, 8)}: ` +
          `restarted, or another took its place\\): it persists nothing, so every job it held is gone\\. This runtime held 2 running \\(ids (${ids[0]}, ${ids[1]}|${ids[1]}, ${ids[0]})\\)`,
      ),
    );
    rt.child.kill('SIGTERM');
    const r = await rt.done;
    assert.equal(r.code, 0, r.stderr);
  });
});
