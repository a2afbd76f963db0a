// A MySQL runtime woken for a dispatch claims the job the wake-up names by id (one statement
// instead of SELECT … FOR UPDATE then UPDATE), then claims as usual at once: a job that became
// due without a wake-up (written straight to the store here, as a delayed job coming due) is
// not left for the next poll, a minute away.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { dispatchJobs } from '../src/dispatcher.ts';
import { killAll, parseJobLines, startCli } from './helpers/cli.ts';
import { createApp } from './helpers/e2e.ts';
import { jobRow } from './helpers/job-rows.ts';
import { waitFor } from './helpers/wait.ts';

after(() => killAll());

test('a woken MySQL runtime runs the announced job and, right after, a due job nobody announced', async () => {
  const app = await createApp('mysql', 'wake_by_id');
  try {
    const rt = startCli(['start', '--procs', '2', '--sleep', '60', ...app.storeArgs], { cwd: app.dir, timeoutMs: 60_000 });
    await waitFor('the runtime to start', () => rt.stdout().includes(' started: '), 20_000);
    // Its first claim found nothing: the store is caught up, so the next wake-up claims by id.
    const [silent] = await app.store.producer.enqueue({ jobs: [jobRow()] }); // no wake-up
    const t0 = Date.now();
    const announced = (await dispatchJobs(class Ok {}, [jobRow()], app.store.producer))[0]!.id;
    const ran = () => parseJobLines(rt.stdout()).ok;
    await waitFor('both jobs to run', () => ran().includes(silent!) && ran().includes(announced!), 20_000);
    assert.ok(Date.now() - t0 < 5_000, `both ran within ${Date.now() - t0} ms, not at the next poll`);
    rt.child.kill('SIGTERM');
    assert.equal((await rt.done).code, 0);
  } finally {
    killAll();
    await app.close();
  }
});
