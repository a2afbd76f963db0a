// A runtime presumed dead while it still runs a job (here: recovered by hand while the job
// runs) claims the job again under the same runtime id. Its older run's result must not land
// on the newer claim, and the newer run must not start while the older one still runs: the
// fencing token of each claim decides. Every store.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { killAll, parseJobLines, startCli } from './helpers/cli.ts';
import { ALL_STORE_KINDS, createApp, lines } from './helpers/e2e.ts';
import { jobRow } from './helpers/job-rows.ts';
import { waitFor } from './helpers/wait.ts';

after(killAll);

for (const kind of ALL_STORE_KINDS) {
  describe(`fencing a re-claimed job (${kind})`, () => {
    test('the old run is dropped as stale, the new run waits for it, then completes and is the only ✔', async () => {
      const app = await createApp(kind, 'fencing');
      try {
        const file = join(app.dir, 'trace.txt');
        const trace = () => {
          try {
            return lines(readFileSync(file, 'utf8')).map((l) => l.split(' '));
          } catch {
            return [];
          }
        };
        const [id] = await app.store.producer.enqueue({ jobs: [jobRow({ handler: 'Traced', payload: { file, ms: 1500, traceStart: true }, maxAttempts: 3 })] });
        const rt = startCli(['start', ...app.storeArgs, '--procs', '2', '--sleep', '0.05', '--stop-when-empty'], { cwd: app.dir, timeoutMs: 60_000 });
        await waitFor('the first run to start', () => trace().some(([what, job]) => what === 'start' && Number(job) === id), 20_000);
        // Its peers give it up for dead: the job goes back, and the same runtime claims it again.
        const [runtime] = await app.store.registry.listRuntimes({});
        const report = await app.store.registry.recoverDeadRuntimes({ deadAfterMs: 3_600_000, maxInterruptions: 3, alsoDead: [runtime!.id] });
        assert.equal(report.released, 1);
        const done = await rt.done;
        assert.equal(done.code, 0, done.stderr);
        const out = done.stdout + done.stderr;

        const runs = trace().filter(([, job]) => Number(job) === id);
        assert.deepEqual(
          runs.map(([what]) => what),
          ['start', 'run', 'start', 'run'],
          'two runs, one after the other: the newer claim waited for the older run',
        );
        assert.deepEqual(parseJobLines(done.stdout).ok, [id], 'one ✔ line: the newer run');
        assert.match(out, new RegExp(`Dropped 1 result\\(s\\) of jobs a peer took over \\(${id}\\)`));
        assert.match(done.stdout, /jobs-runtime stopped: 1 completed, 0 failed, 0 retried, 0 given back, 1 result\(s\) dropped/);
        assert.equal(await app.store.admin.getJob({ id: id! }), null, 'the newer claim completed the job');
      } finally {
        await app.close();
      }
    });
  });
}
