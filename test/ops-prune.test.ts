// Retention on every store: `prune` by hand and the pruner inside runtimes delete completed and
// failed rows past their retention and nothing else; one runtime at a time prunes; throughput
// counters outlive the rows.
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { JobId } from '../src/stores/store.ts';
import { killAll } from './helpers/cli.ts';
import { createOpsApp, exited, type OpsApp, waitForStart } from './helpers/ops.ts';
import { STORE_FACTORIES } from './helpers/stores.ts';
import { waitFor } from './helpers/wait.ts';
import { completeJobs, failJobs, jobRow } from './helpers/job-rows.ts';

after(killAll);

const DAY = 86_400_000;

for (const factory of STORE_FACTORIES) {
  describe(`retention: ${factory.kind}`, () => {
    let app: OpsApp;
    before(async () => {
      app = await createOpsApp(factory, 'ops_prune');
    });
    after(async () => {
      killAll();
      await app?.cleanup();
    });

    const statuses = async (ids: JobId[]) => Promise.all(ids.map(async (id) => (await app.store.admin.getJob({ id }))?.status ?? 'gone'));

    test('prune deletes completed and failed rows past their retention, nothing younger', async () => {
      const completed = await completeJobs(app.store, 'pr', 4, true);
      const failed = await failJobs(app.store, 'pr', ['Ok', 'Ok', 'Ok']);
      const [waiting] = await app.store.producer.enqueue({ jobs: [jobRow({ queue: 'pr', delayMs: 0 })] });
      await app.backdate.jobs(completed.slice(0, 2), 2 * DAY, 'completed');
      await app.backdate.jobs(failed.slice(0, 1), 40 * DAY, 'failed');
      await app.backdate.jobs(failed.slice(1, 2), 29 * DAY, 'failed');

      const r = await app.cli(['prune', '--keep-completed', '1d', '--keep-failed', '30d', '--json']);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(JSON.parse(r.stdout), { completed: 2, failed: 1 });
      assert.deepEqual(await statuses([...completed, ...failed, waiting!]), ['gone', 'gone', 'completed', 'completed', 'gone', 'failed', 'failed', 'new']);

      const again = await app.cli(['prune', '--keep-completed', 'forever', '--keep-failed', '28 days']);
      assert.equal(again.stdout, '✔ Pruned 1 failed job older than 28d\n');
      assert.deepEqual(await statuses([...completed, ...failed, waiting!]), ['gone', 'gone', 'completed', 'completed', 'gone', 'gone', 'failed', 'new']);
      const status = JSON.parse((await app.cli(['status', '--json'])).stdout) as {
        queues: Array<{ queue: string; completedLastHour: number; failedLastHour: number }>;
      };
      assert.deepEqual(
        status.queues.filter((q) => q.queue === 'pr').map((q) => [q.completedLastHour, q.failedLastHour]),
        [[4, 3]],
        'the throughput counters keep what was pruned',
      );
    });

    // Option parsing and the config file do not depend on the store: one store is enough.
    if (factory.kind === 'sqlite')
      test('retention from the bare flag (for ever) and from jobs.config.json', async () => {
        const [id] = await app.store.producer.enqueue({ jobs: [jobRow({ queue: 'kc' })] });
        const bare = await app.cli(['start', '--keep-completed', '--stop-when-empty', '--queue', 'kc', '--procs', '1']);
        assert.equal(bare.code, 0, bare.stderr);
        assert.match(bare.stdout, /Keeping completed jobs for ever and failed jobs for ever/);
        assert.equal((await app.store.admin.getJob({ id: id! }))!.status, 'completed');

        writeFileSync(join(app.dir, 'jobs.config.json'), JSON.stringify({ keepCompleted: '2 days', keepFailed: '30d' }));
        const fromFile = await app.cli(['start', '--stop-when-empty', '--queue', 'kc', '--procs', '1']);
        assert.match(fromFile.stdout, /Keeping completed jobs for 2d and failed jobs for 30d/);
        const overridden = await app.cli(['start', '--stop-when-empty', '--queue', 'kc', '--procs', '1', '--keep-failed', 'forever']);
        assert.match(overridden.stdout, /Keeping completed jobs for 2d and failed jobs for ever/);
        writeFileSync(join(app.dir, 'jobs.config.json'), JSON.stringify({ keepFailed: 'soon' }));
        const bad = await app.cli(['start', '--stop-when-empty', '--queue', 'kc', '--procs', '1']);
        assert.equal(bad.code, 1);
        assert.match(bad.stderr, /jobs\.config\.json: keepFailed: Invalid value for --keep-failed 'soon'/);
        rmSync(join(app.dir, 'jobs.config.json'));
      });

    test("the runtimes' pruner: one at a time, past retention only", async () => {
      const args = [
        'start',
        '--queue',
        'rt',
        '--procs',
        '2',
        '--sleep',
        '0.2',
        '--quiet',
        '--keep-completed',
        '1d',
        '--keep-failed',
        '30d',
        '--prune-every',
        '1',
      ];
      const a = app.start(args);
      const b = app.start(args);
      await Promise.all([waitForStart(a), waitForStart(b)]);
      assert.match(a.stdout(), /Keeping completed jobs for 1d and failed jobs for 30d \(one runtime at a time prunes, every 1\.0 s\)/);

      const oks = await app.store.producer.enqueue({ jobs: Array.from({ length: 6 }, () => jobRow({ queue: 'rt' })) });
      const bad = await app.store.producer.enqueue({ jobs: Array.from({ length: 2 }, () => jobRow({ queue: 'rt', handler: 'FailsPermanently' })) });
      await waitFor(
        'every job to finish',
        async () => (await statuses([...oks, ...bad])).join() === 'completed,completed,completed,completed,completed,completed,failed,failed',
        30_000,
        50,
      );
      await app.backdate.jobs(oks.slice(0, 4), 2 * DAY, 'completed');
      await app.backdate.jobs(bad.slice(0, 1), 31 * DAY, 'failed');
      await waitFor('the pruner to delete the old rows', async () => (await statuses([...oks.slice(0, 4), bad[0]!])).every((s) => s === 'gone'), 15_000, 100);
      assert.deepEqual(await statuses([...oks.slice(4), bad[1]!]), ['completed', 'completed', 'failed'], 'rows inside their retention stay');

      // The pruning runtime stops cleanly: it gives the lease up, and the other prunes at its
      // next period (the lease would otherwise hold for 10 s).
      const pruned = (out: string) => out.split('\n').filter((l) => l.includes('Pruned'));
      await waitFor('the pruner to log it', () => pruned(a.stdout()).length + pruned(b.stdout()).length > 0, 5_000);
      const [holder, other] = pruned(a.stdout()).length > 0 ? [a, b] : [b, a];
      holder.child.kill('SIGTERM');
      const rHolder = await exited(holder, 20_000);
      assert.equal(rHolder.code, 0, rHolder.stderr);
      await app.backdate.jobs(oks.slice(4), 2 * DAY, 'completed');
      const handedOver = Date.now();
      await waitFor('the other runtime to prune', async () => (await statuses(oks.slice(4))).every((s) => s === 'gone'), 5_000, 100);
      const handoverMs = Date.now() - handedOver;
      other.child.kill('SIGTERM');
      const rOther = await exited(other, 20_000);

      const before = pruned(rHolder.stdout);
      const after = pruned(rOther.stdout);
      assert.ok(before.length >= 1, 'a pruner ran');
      const total = (lines: string[], re: RegExp) => lines.reduce((n, l) => n + Number(re.exec(l)?.[1] ?? 0), 0);
      assert.deepEqual(
        [total(before, /Pruned (\d+) completed/), total(before, /(\d+) failed job/)],
        [4, 1],
        `only the holder pruned while it ran:\n${before.join('\n')}`,
      );
      assert.deepEqual(
        [total(after, /Pruned (\d+) completed/), total(after, /(\d+) failed job/)],
        [2, 0],
        `the other took over once it stopped:\n${after.join('\n')}`,
      );
      console.log(`  pruner handover (${factory.kind}): the other runtime pruned ${handoverMs} ms after the holder stopped`);
    });
  });
}
