// `jobs-runtime status` on every store: after a scripted mix (waiting, delayed, running on a
// real runtime, failed, completed and deleted, paused, a dead runtime), the figures it prints
// and its --json equal the true counts.
import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import { after, before, describe, test } from 'node:test';
import type { StatusSnapshot } from '../src/operations/status-snapshot.ts';
import { killAll } from './helpers/cli.ts';
import { createOpsApp, row, type OpsApp } from './helpers/ops.ts';
import { STORE_FACTORIES } from './helpers/stores.ts';
import { waitFor } from './helpers/wait.ts';
import { completeJobs, failJobs, jobRow } from './helpers/job-rows.ts';

after(killAll);

for (const factory of STORE_FACTORIES) {
  describe(`status: ${factory.kind}`, () => {
    let app: OpsApp;
    before(async () => {
      app = await createOpsApp(factory, 'ops_status');
    });
    after(async () => {
      killAll();
      await app?.cleanup();
    });

    test('prints the true counts of a scripted mix, for people and as JSON', async () => {
      const { store } = app;
      // Waiting and delayed on a queue that is then paused.
      await store.producer.enqueue({
        jobs: [
          ...Array.from({ length: 4 }, () => jobRow({ queue: 'st-wait' })),
          jobRow({ queue: 'st-wait', delayMs: 3_600_000 }),
          jobRow({ queue: 'st-wait', delayMs: 3_600_000 }),
        ],
      });
      const paused = await app.cli(['pause', 'st-wait']);
      assert.equal(paused.code, 0, paused.stderr);
      // Failed, and completed (their rows are gone; the throughput counters keep them).
      await failJobs(store, 'st-fail', ['Ok', 'Ok', 'mail/Send']);
      await completeJobs(store, 'st-done', 5);
      // Running: a real runtime that takes only st-run, its 6 slots (2 threads × 3) busy with 7 long jobs.
      await store.producer.enqueue({ jobs: Array.from({ length: 7 }, () => jobRow({ queue: 'st-run', handler: 'Sleeps', payload: '{"ms":20000}' })) });
      const runtime = app.start([
        'start',
        '--queue',
        'st-run',
        '--procs',
        '2',
        '--concurrency',
        '3',
        '--heartbeat',
        '0.3',
        '--dead-after',
        '120',
        '--grace',
        '1',
      ]);
      // A runtime that stopped beating long ago and that nobody recovered yet.
      await store.registry.registerRuntime({ runtime: { id: 'ghost-1', host: 'gone-host', pid: 424242, queues: null, threads: 8 } });
      await app.backdate.heartbeat('ghost-1', 45_000);
      await waitFor(
        'the runtime to report 6 busy slots',
        async () => (await store.registry.listRuntimes({})).some((r) => r.pid === runtime.pid && r.busyThreads === 6),
        20_000,
      );

      const json = await app.cli(['status', '--json']);
      assert.equal(json.code, 0, json.stderr);
      const s = JSON.parse(json.stdout) as StatusSnapshot;
      const q = (name: string) => s.queues.find((x) => x.queue === name);
      assert.deepEqual(q('st-wait'), {
        queue: 'st-wait',
        waiting: 4,
        delayed: 2,
        concurrencyLimited: 0,
        rateLimited: 0,
        processing: 0,
        failed: 0,
        paused: true,
        completedLastMinute: 0,
        failedLastMinute: 0,
        completedLastHour: 0,
        failedLastHour: 0,
      });
      assert.deepEqual(q('st-run'), {
        queue: 'st-run',
        waiting: 1,
        delayed: 0,
        concurrencyLimited: 0,
        rateLimited: 0,
        processing: 6,
        failed: 0,
        paused: false,
        completedLastMinute: 0,
        failedLastMinute: 0,
        completedLastHour: 0,
        failedLastHour: 0,
      });
      assert.deepEqual(q('st-fail'), {
        queue: 'st-fail',
        waiting: 0,
        delayed: 0,
        concurrencyLimited: 0,
        rateLimited: 0,
        processing: 0,
        failed: 3,
        paused: false,
        completedLastMinute: 0,
        failedLastMinute: 3,
        completedLastHour: 0,
        failedLastHour: 3,
      });
      assert.deepEqual(q('st-done'), {
        queue: 'st-done',
        waiting: 0,
        delayed: 0,
        concurrencyLimited: 0,
        rateLimited: 0,
        processing: 0,
        failed: 0,
        paused: false,
        completedLastMinute: 5,
        failedLastMinute: 0,
        completedLastHour: 5,
        failedLastHour: 0,
      });
      // The same numbers the store counts itself.
      for (const c of await store.admin.counts({})) {
        const shown = q(c.queue)!;
        assert.deepEqual([shown.waiting, shown.delayed, shown.processing, shown.failed], [c.waiting, c.delayed, c.processing, c.failed], c.queue);
      }
      const live = s.runtimes.find((r) => r.pid === runtime.pid)!;
      assert.deepEqual(
        { host: live.host, queues: live.queues, threads: live.threads, slots: live.slots, busy: live.busyThreads, dead: live.dead },
        { host: hostname(), queues: ['st-run'], threads: 2, slots: 6, busy: 6, dead: false },
      );
      assert.ok(live.rssBytes > 10_000_000, `rss ${live.rssBytes}`);
      assert.ok(live.lastHeartbeatMsAgo < 3_000 && live.uptimeMs > 0 && live.uptimeMs < 60_000, JSON.stringify(live));
      const ghost = s.runtimes.find((r) => r.id === 'ghost-1')!;
      assert.equal(ghost.dead, true);
      assert.ok(ghost.lastHeartbeatMsAgo >= 45_000, `silent ${ghost.lastHeartbeatMsAgo} ms`);

      const text = await app.cli(['status']);
      assert.equal(text.code, 0, text.stderr);
      assert.match(text.stdout, /^Runtimes: 1 live, 1 dead \(silent > 30s, not yet recovered\)$/m);
      assert.deepEqual(row(text.stdout, 'st-wait'), ['st-wait', '4', '2', '0', '0', '0', '0', '0', '0', '0', 'PAUSED']);
      assert.deepEqual(row(text.stdout, 'st-run'), ['st-run', '1', '0', '0', '6', '0', '0', '0', '0', '0', 'active']);
      assert.deepEqual(row(text.stdout, 'st-fail'), ['st-fail', '0', '0', '0', '0', '3', '0', '3', '0', '3', 'active']);
      assert.deepEqual(row(text.stdout, 'st-done'), ['st-done', '0', '0', '0', '0', '0', '5', '0', '5', '0', 'active']);
      const liveRow = text.stdout.split('\n').find((l) => l.includes(` ${runtime.pid} `))!;
      assert.match(
        liveRow,
        new RegExp(`^  ${hostname()}\\s+${runtime.pid}\\s+st-run\\s+6/6\\s+2×3\\s+\\d+\\.\\d%\\s+\\d+ MB\\s+\\S+( \\S+)?\\s+0\\s+0\\s+\\S+ ago\\s+live$`),
      );
      assert.match(text.stdout, /^ {2}gone-host\s+424242\s+all\s+0\/8\s+8\s+.*\s+DEAD$/m);
      // The runtimes run with another --dead-after: status judges silence by the same limit.
      const patient = await app.cli(['status', '--json', '--dead-after', '1m']);
      assert.equal(patient.code, 0, patient.stderr);
      const ps = JSON.parse(patient.stdout) as StatusSnapshot;
      assert.equal(ps.deadAfterMs, 60_000);
      assert.equal(ps.runtimes.find((r) => r.id === 'ghost-1')!.dead, false, 'silent 45 s is not dead with --dead-after 1m');
      const strict = await app.cli(['status', '--dead-after', '40']);
      assert.match(strict.stdout, /^Runtimes: 1 live, 1 dead \(silent > 40s, not yet recovered\)$/m);
      const bad = await app.cli(['status', '--dead-after', 'soon']);
      assert.equal(bad.code, 1);
      assert.match(bad.stderr, /argument 'soon' is invalid\. Invalid value for --dead-after/);
      const zero = await app.cli(['status', '--dead-after', '0']);
      assert.equal(zero.code, 1);
      assert.match(zero.stderr, /--dead-after must be at least 1 s, got '0'/);
      // Piped, --watch prints once and exits.
      const watched = await app.cli(['status', '--watch'], { timeoutMs: 10_000 });
      assert.equal(watched.code, 0);
      assert.equal(watched.stdout.match(/^Store /gm)?.length, 1);
      runtime.child.kill('SIGKILL');
    });
  });
}
