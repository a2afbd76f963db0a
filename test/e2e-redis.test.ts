// The core end-to-end scenario on Redis: dispatch a mix (ok, failing, permanently failing,
// delayed), run the real runtime with JOBS_DATABASE_URL=redis://…, check its lines and the store.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { openStore } from '../src/stores/open-store.ts';
import type { JobStore } from '../src/stores/store.ts';
import { killAll, parseJobLines, runCli } from './helpers/cli.ts';
import { JOBS_DIR } from './helpers/e2e.ts';
import { createRedisPrefix, type TestRedis } from './helpers/redis.ts';
import { jobRow } from './helpers/job-rows.ts';

let redis: TestRedis;
let store: JobStore;
let dir: string;
before(async () => {
  redis = await createRedisPrefix('e2e');
  store = await openStore(redis.url);
  dir = mkdtempSync(join(tmpdir(), 'jr-e2e-redis-'));
});
after(async () => {
  killAll();
  await store?.close();
  await redis?.drop();
  rmSync(dir, { recursive: true, force: true });
});

test('start --procs 4 --stop-when-empty on Redis: every job runs, retries and fails as on MySQL', { timeout: 90_000 }, async () => {
  const ok = await store.producer.enqueue({ jobs: Array.from({ length: 100 }, (_, i) => jobRow({ handler: 'Ok', payload: { i } })) });
  const throws = await store.producer.enqueue({
    jobs: Array.from({ length: 3 }, () => jobRow({ handler: 'Throws', payload: { message: 'boom' }, maxAttempts: 2 })),
  });
  const permanent = await store.producer.enqueue({ jobs: [jobRow({ handler: 'FailsPermanently', maxAttempts: 5 })] });
  const delayed = await store.producer.enqueue({ jobs: [jobRow({ handler: 'Ok', delayMs: 3_600_000 })] });
  const cli = await runCli(['start', '--procs', '4', '--stop-when-empty', '--jobs-dir', JOBS_DIR], {
    cwd: dir,
    env: { JOBS_DATABASE_URL: redis.url },
    timeoutMs: 60_000,
  });
  assert.equal(cli.code, 0, cli.stderr);
  assert.match(cli.stdout, /started: store redis:\/\/.*\(JOBS_DATABASE_URL\)/);
  const lines = parseJobLines(cli.stdout + cli.stderr);
  assert.deepEqual(
    [...lines.ok].sort((a, b) => a - b),
    ok,
    'each Ok job succeeded exactly once',
  );
  for (const id of ok) assert.equal(await store.admin.getJob({ id }), null, 'a completed job is removed');
  for (const id of throws) {
    assert.equal(lines.failed.filter((f) => f.id === id).length, 2, `job ${id} failed twice (retry, then final)`);
    const row = (await store.admin.getJob({ id }))!;
    assert.deepEqual([row.status, row.attempts], ['failed', 2]);
    assert.match(row.exception!, /boom\n\s+at /);
    assert.ok(row.failedAt);
  }
  const p = (await store.admin.getJob({ id: permanent[0]! }))!;
  assert.deepEqual([p.status, p.attempts], ['failed', 1], 'failPermanently: no retry');
  const d = (await store.admin.getJob({ id: delayed[0]! }))!;
  assert.deepEqual([d.status, d.attempts], ['new', 0], 'the delayed job waits');
  const counts = await store.admin.counts({});
  assert.deepEqual(
    counts.map((c) => [c.queue, c.waiting, c.delayed, c.processing, c.failed]),
    [['default', 0, 1, 0, 4]],
  );
  assert.deepEqual(await store.registry.listRuntimes({}), [], 'the runtime left the registry');
});
