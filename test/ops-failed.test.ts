// The failed-job commands on every store, through the real CLI: `failed` lists and shows,
// `retry`, `forget` and `flush` change exactly the rows they name and report the right counts,
// `flush` will not delete without a person or --yes, and bad input is refused with a message.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { FailedPage, JobId, JobRecord } from '../src/stores/store.ts';
import { killAll } from './helpers/cli.ts';
import { createOpsApp, row, type OpsApp } from './helpers/ops.ts';
import { STORE_FACTORIES } from './helpers/stores.ts';
import { failJobs, jobRow } from './helpers/job-rows.ts';

after(killAll);

for (const factory of STORE_FACTORIES) {
  describe(`failed jobs: ${factory.kind}`, () => {
    let app: OpsApp;
    before(async () => {
      app = await createOpsApp(factory, 'ops_failed');
    });
    after(async () => app?.cleanup());

    const statuses = async (ids: JobId[]) => Promise.all(ids.map(async (id) => (await app.store.admin.getJob({ id }))?.status ?? 'gone'));

    test('failed lists with filters; failed show prints payload and the whole exception', async () => {
      const [a1, a2, a3] = await failJobs(app.store, 'ls-a', ['Ok', 'mail/Send', 'Ok']);
      const [b1] = await failJobs(app.store, 'ls-b', ['Ok']);
      const page = JSON.parse((await app.cli(['failed', '--handler', 'mail/Send', '--json'])).stdout) as FailedPage;
      assert.deepEqual([page.total, page.jobs.map((j) => [j.id, j.payload])], [1, [[a2, { to: 'mail/Send@example.com' }]]]);
      const asJson = JSON.parse((await app.cli(['failed', 'show', String(b1), '--json'])).stdout) as Omit<JobRecord, 'payload'> & { payload: unknown };
      assert.deepEqual(
        [asJson.id, asJson.status, asJson.queue, asJson.payload],
        [b1, 'failed', 'ls-b', { to: 'Ok@example.com' }],
        'the payload as JSON, not a string',
      );
      assert.equal(asJson.exception, `Error: job ${b1} failed\n    at run (job.ts:3:11)`);
      if (factory.kind !== 'sqlite') return; // the text below comes from the same records on every store

      const all = await app.cli(['failed', '--queue', 'ls-a']);
      assert.equal(all.code, 0, all.stderr);
      const lines = all.stdout.split('\n');
      assert.match(lines[0]!, /^ID\s+QUEUE\s+HANDLER\s+ATTEMPTS\s+FAILED AT \(UTC\)\s+ERROR$/);
      assert.deepEqual(
        lines
          .slice(1, 4)
          .map((l) => Number(l.split(/\s+/)[0]))
          .sort(),
        [a1, a2, a3].sort(),
        'the three jobs of ls-a',
      );
      const r2 = row(all.stdout, String(a2))!;
      assert.deepEqual(r2.slice(0, 4), [String(a2), 'ls-a', 'mail/Send', '1/1']);
      assert.match(r2[4]!, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
      assert.equal(r2[5], `Error: job ${a2} failed`, 'the first line of the error only');
      assert.match(all.stdout, /^3 failed jobs on queue ls-a\. `jobs-runtime failed show <id>` prints one in full\.$/m);

      const limited = await app.cli(['failed', '--queue', 'ls-a', '--limit', '2']);
      assert.match(limited.stdout, /^2 of 3 shown \(--limit\) on queue ls-a\./m);
      assert.equal((await app.cli(['failed', '--queue', 'nothing-here'])).stdout, 'No failed jobs on queue nothing-here.\n');

      const show = await app.cli(['failed', 'show', String(b1)]);
      assert.equal(show.code, 0, show.stderr);
      assert.match(show.stdout, new RegExp(`^Job ${b1}\\n  status        failed\\n  queue         ls-b\\n  handler       Ok\\n  attempts      1 of 1\\n`));
      assert.match(show.stdout, /\nPayload:\n\{\n {2}"to": "Ok@example\.com"\n\}\n\nException:\nError: job \d+ failed\n {4}at run \(job\.ts:3:11\)\n$/);
      const missing = await app.cli(['failed', 'show', '999999']);
      assert.equal(missing.code, 1);
      assert.match(missing.stderr, /Job 999999 does not exist/);
    });

    test('retry by id puts back exactly those jobs and says how many; --all narrows by queue and handler', async () => {
      const xs = await failJobs(app.store, 'rt-x', ['A', 'B', 'A', 'A']);
      const ys = await failJobs(app.store, 'rt-y', ['A', 'A']);
      const [waiting] = await app.store.producer.enqueue({ jobs: [jobRow({ queue: 'rt-waiting' })] });
      const byId = await app.cli(['retry', String(xs[0]), String(xs[1]), String(waiting)]);
      assert.equal(byId.code, 0, byId.stderr);
      assert.equal(byId.stdout, '✔ 2 failed jobs put back to run again (1 of the 3 ids given is not a failed job)\n');
      assert.deepEqual(await statuses([...xs, ...ys, waiting!]), ['new', 'new', 'failed', 'failed', 'failed', 'failed', 'new']);
      const back = (await app.store.admin.getJob({ id: xs[0]! }))!;
      assert.deepEqual([back.attempts, back.failedAt, back.exception], [0, null, `Error: job ${xs[0]} failed\n    at run (job.ts:3:11)`]);
      assert.equal((await app.store.admin.getJob({ id: waiting! }))!.attempts, 0, 'a job that was not failed is untouched');

      const narrow = await app.cli(['retry', '--all', '--queue', 'rt-x', '--handler', 'A', '--json']);
      assert.deepEqual(JSON.parse(narrow.stdout), { retried: 2 });
      assert.deepEqual(await statuses([...xs, ...ys]), ['new', 'new', 'new', 'new', 'failed', 'failed']);
      const rest = await app.cli(['retry', '--all', '--queue', 'rt-y']);
      assert.equal(rest.stdout, '✔ 2 failed jobs put back to run again\n');
      assert.equal((await app.cli(['retry', '--all', '--queue', 'rt-y'])).stdout, '✔ 0 failed jobs put back to run again\n');
      assert.deepEqual(
        (await app.store.admin.counts({ queues: ['rt-x', 'rt-y'] })).map((c) => [c.queue, c.waiting, c.failed]),
        [
          ['rt-x', 4, 0],
          ['rt-y', 2, 0],
        ],
      );
    });

    test('forget deletes the failed jobs named, and only failed ones', async () => {
      const [f1, f2, f3] = await failJobs(app.store, 'fg', ['Ok', 'Ok', 'Ok']);
      const [waiting] = await app.store.producer.enqueue({ jobs: [jobRow({ queue: 'fg-waiting' })] });
      const res = await app.cli(['forget', String(f1), String(f3), String(waiting), '--json']);
      assert.equal(res.code, 0, res.stderr);
      assert.deepEqual(JSON.parse(res.stdout), { deleted: 2, requested: 3 });
      assert.deepEqual(await statuses([f1!, f2!, f3!, waiting!]), ['gone', 'failed', 'gone', 'new']);
      assert.equal((await app.cli(['forget', String(f2)])).stdout, '✔ 1 failed job deleted\n');
    });

    test('flush deletes in bulk by queue and age, and never without --yes when it cannot ask', async () => {
      await app.store.admin.deleteFailed({}); // earlier tests' failed jobs
      const olds = await failJobs(app.store, 'fl-a', ['Ok', 'Ok']);
      const [otherOld] = await failJobs(app.store, 'fl-b', ['Ok']);
      await app.backdate.jobs([...olds, otherOld!], 2 * 86_400_000, 'failed');
      const [fresh] = await failJobs(app.store, 'fl-a', ['Ok']);

      const refused = await app.cli(['flush', '--queue', 'fl-a']); // stdin is not a terminal here
      assert.equal(refused.code, 1);
      assert.match(refused.stderr, /flush would delete 3 failed job\(s\) on queue fl-a: pass --yes to confirm \(stdin is not a terminal, so it cannot ask\)/);
      assert.deepEqual(await statuses([...olds, otherOld!, fresh!]), ['failed', 'failed', 'failed', 'failed']);

      const aged = await app.cli(['flush', '--queue', 'fl-a', '--older-than', '1d', '--yes']);
      assert.equal(aged.stdout, '✔ 2 failed jobs deleted\n');
      assert.deepEqual(await statuses([...olds, otherOld!, fresh!]), ['gone', 'gone', 'failed', 'failed']);
      assert.equal(
        (await app.cli(['flush', '--queue', 'fl-a', '--older-than', '1 day'])).stdout,
        'Nothing to flush: no failed job(s) on queue fl-a that failed more than 1d ago.\n',
      );
      const everything = await app.cli(['flush', '--yes', '--json']);
      assert.deepEqual(JSON.parse(everything.stdout), { deleted: 2 });
      assert.deepEqual((await app.store.admin.listFailed({ limit: 10 })).total, 0);
    });

    // Input checks do not depend on the store: one store is enough.
    if (factory.kind === 'sqlite')
      test('bad input is refused with a message, and changes nothing', async () => {
        const [id] = await failJobs(app.store, 'bad', ['Ok']);
        const cases: Array<[string[], RegExp]> = [
          [['retry'], /Name the failed jobs to retry by id .* or retry them all with --all/],
          [['retry', '0'], /Invalid job id '0': ids are whole numbers from 1 up/],
          [['retry', '1.5'], /Invalid job id '1\.5'/],
          [['retry', 'abc'], /Invalid job id 'abc'/],
          [['retry', String(id), '--all'], /Give job ids or --all, not both/],
          [['retry', String(id), '--queue', 'bad'], /--queue and --handler narrow --all/],
          [['retry', '--all', '--queue', 'no spaces'], /Invalid queue name "no spaces"/],
          // A --handler filter takes names as stored (Lightpack's App\Jobs\SendMail); only an empty one is refused.
          [['retry', '--all', '--handler', ''], /Invalid --handler '': give a handler name as stored/],
          [['forget'], /missing required argument 'ids'/],
          [['forget', '-3'], /unknown option '-3'|Invalid job id/],
          [['failed', '--limit', '0'], /--limit must be a whole number from 1 to 100000, got '0'/],
          [['failed', 'show', 'x'], /Invalid job id 'x'/],
          [['flush', '--older-than', 'soon', '--yes'], /Invalid value for --older-than 'soon'/],
          [['pause', 'a,b'], /Invalid queue name "a,b"/],
          [['resume', ''], /Invalid queue name ""/],
          [['prune'], /Say what to prune: --keep-completed <duration> and\/or --keep-failed <duration>/],
          [['prune', '--keep-completed', '0'], /--keep-completed must be more than 0 \(or 'forever'\), got '0'/],
          [['status', '--interval', 'often'], /Invalid value for --interval 'often'/],
        ];
        // Independent of each other: run side by side.
        const results = await Promise.all(cases.map(([args]) => app.cli(args)));
        for (const [i, [args, message]] of cases.entries()) {
          const r = results[i]!;
          assert.notEqual(r.code, 0, `${args.join(' ')} should fail`);
          assert.match(r.stderr, message, args.join(' '));
          assert.doesNotMatch(r.stderr, /\n\s+at /, `${args.join(' ')}: no stack trace`);
        }
        assert.equal((await app.store.admin.getJob({ id: id! }))!.status, 'failed');
      });
  });
}
