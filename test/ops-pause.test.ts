// Pausing on every store, with real runtimes: one that takes every queue and one with a queue
// list. A paused queue's jobs stay untouched (status new, attempts 0) while another queue
// drains; `resume` lets them run.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { killAll } from './helpers/cli.ts';
import { createOpsApp, exited, type OpsApp, waitForStart } from './helpers/ops.ts';
import { STORE_FACTORIES } from './helpers/stores.ts';
import { sleep, waitFor } from './helpers/wait.ts';
import { jobRow } from './helpers/job-rows.ts';

after(killAll);

for (const factory of STORE_FACTORIES) {
  describe(`pause and resume: ${factory.kind}`, () => {
    let app: OpsApp;
    before(async () => {
      app = await createOpsApp(factory, 'ops_pause');
    });
    after(async () => {
      killAll();
      await app?.cleanup();
    });

    test("no runtime claims a paused queue's jobs while another queue drains; resume runs them", async () => {
      const paused = await app.cli(['pause', 'p-held']);
      assert.equal(paused.stdout, '✔ Queue p-held paused: runtimes claim none of its jobs from their next poll on; `jobs-runtime resume p-held` undoes it\n');
      assert.deepEqual(JSON.parse((await app.cli(['pause', 'p-held', '--json'])).stdout), { queue: 'p-held', paused: true, changed: false });
      const common = ['start', '--procs', '2', '--sleep', '0.2', '--quiet'];
      const everyQueue = app.start(common);
      const byName = app.start([...common, '--queue', 'p-held,p-live']);
      await Promise.all([waitForStart(everyQueue), waitForStart(byName)]);

      const held = await app.store.producer.enqueue({ jobs: Array.from({ length: 10 }, () => jobRow({ queue: 'p-held' })) });
      await app.store.producer.enqueue({ jobs: Array.from({ length: 40 }, () => jobRow({ queue: 'p-live' })) });
      await waitFor('p-live to drain', async () => (await app.store.admin.counts({ queues: ['p-live'] })).length === 0, 30_000, 50);
      await sleep(600); // a few more polls of both runtimes
      for (const id of held) {
        const job = (await app.store.admin.getJob({ id }))!;
        assert.deepEqual([job.status, job.attempts, job.owner], ['new', 0, null], `job ${id} of the paused queue`);
      }
      assert.deepEqual(await app.store.admin.counts({ queues: ['p-held'] }), [{ queue: 'p-held', waiting: 10, delayed: 0, processing: 0, failed: 0 }]);

      const resumed = await app.cli(['resume', 'p-held']);
      assert.equal(resumed.stdout, '✔ Queue p-held resumed\n');
      await waitFor('p-held to drain once resumed', async () => (await app.store.admin.counts({ queues: ['p-held'] })).length === 0, 30_000, 50);
      assert.equal((await app.cli(['resume', 'p-held'])).stdout, 'Queue p-held was not paused\n');

      everyQueue.child.kill('SIGTERM');
      byName.child.kill('SIGTERM');
      const [a, b] = await Promise.all([exited(everyQueue, 20_000), exited(byName, 20_000)]);
      assert.deepEqual([a.code, b.code], [0, 0], `${a.stderr}\n${b.stderr}`);
      const done = (out: string) => Number(/stopped: (\d+) completed/.exec(out)?.[1]);
      assert.equal(done(a.stdout) + done(b.stdout), 50, 'every job ran exactly once');
    });
  });
}
