// Rows the Job API would never write (or that went bad in the table) reach a running runtime:
// each fails alone, at once and for good, with a message that names the problem, and the
// runtime carries on with the next job.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { killAll, parseJobLines, startCli, type CliResult, type RunningCli } from './helpers/cli.ts';
import { ALL_STORE_KINDS, bounded, createApp, STORE_KINDS, type E2eApp } from './helpers/e2e.ts';
import { waitFor } from './helpers/wait.ts';
import type { JobRecord } from '../src/stores/store.ts';
import { jobRow } from './helpers/job-rows.ts';

after(() => killAll());

const MAX_ATTEMPTS = 3;

for (const kind of STORE_KINDS) {
  describe(`e2e bad input: ${kind}`, () => {
    let app: E2eApp;
    let runtime: RunningCli;
    let result: CliResult;
    const ids: Record<'nope' | 'badImport' | 'noRun' | 'badJson' | 'evil' | 'following', number> = {
      nope: 0,
      badImport: 0,
      noRun: 0,
      badJson: 0,
      evil: 0,
      following: 0,
    };
    const rows = new Map<number, JobRecord | null>();

    before(
      async () => {
        app = await createApp(kind, `e2e_bad_${kind}`);
        // The store API checks nothing about handler or payload: these go in as given.
        const over = { maxAttempts: MAX_ATTEMPTS, retryAfterMs: 0 };
        [ids.nope, ids.badImport, ids.noRun, ids.badJson] = (await app.store.producer.enqueue({
          jobs: [
            jobRow({ handler: 'Nope', ...over }),
            jobRow({ handler: 'BadImport', ...over }),
            jobRow({ handler: 'NoRun', ...over }),
            jobRow({ handler: 'Ok', payload: '{not json', ...over }),
          ],
        })) as [number, number, number, number];
        // A handler that points outside the jobs directory, written with SQL.
        ids.evil = await app.rawInsert({ handler: '../evil', payload: '{}', maxAttempts: MAX_ATTEMPTS, retryAfterMs: 0 });

        runtime = startCli(['start', '--procs', '2', '--sleep', '100ms', ...app.storeArgs], { cwd: app.dir, timeoutMs: 45_000 });
        const bad = [ids.nope, ids.badImport, ids.noRun, ids.badJson, ids.evil];
        // Every bad row ends failed (whatever the number of attempts it took)...
        await waitFor(
          'every bad row to end failed',
          async () => (await bounded(Promise.all(bad.map((id) => app.store.admin.getJob({ id }))), 5_000, 'getJob')).every((r) => r?.status === 'failed'),
          20_000,
          50,
        ).catch((e: Error) => {
          throw new Error(`${e.message}\nstdout: ${runtime.stdout()}\nstderr: ${runtime.stderr()}`);
        });
        // ...then a good job dispatched afterwards still runs on the same runtime.
        [ids.following] = (await app.store.producer.enqueue({ jobs: [jobRow({ handler: 'Ok', payload: { after: 'bad rows' } })] })) as [number];
        await waitFor('the following Ok job to be processed', () => parseJobLines(runtime.stdout()).ok.includes(ids.following), 15_000).catch((e: Error) => {
          throw new Error(`${e.message}\nstdout: ${runtime.stdout()}\nstderr: ${runtime.stderr()}`);
        });
        // The ✔ line is printed before the result is written: give the write a moment.
        await waitFor(
          "the following job's row to be deleted",
          async () => (await bounded(app.store.admin.getJob({ id: ids.following }), 5_000, 'getJob')) === null,
          5_000,
        ).catch(
          () => undefined, // asserted below, with the row in the message
        );
        for (const id of [...bad, ids.following]) rows.set(id, await app.store.admin.getJob({ id }));
        runtime.child.kill('SIGTERM');
        result = await runtime.done;
      },
      { timeout: 60_000 },
    );

    after(
      async () => {
        killAll();
        await app?.close();
      },
      { timeout: 30_000 },
    );

    /** The job's ✖ lines, its row, and the checks every bad row must pass. */
    function failedOnce(id: number, messageRe: RegExp): JobRecord {
      const lines = parseJobLines(result.stderr).failed.filter((f) => f.id === id);
      assert.ok(lines.length >= 1, `a ✖ line for job ${id}`);
      assert.match(lines[0]!.message, messageRe);
      const row = rows.get(id);
      assert.ok(row, `row of job ${id} is kept`);
      assert.equal(row.status, 'failed');
      assert.match(row.exception ?? '', messageRe);
      assert.ok(row.failedAt, 'failed_at is set');
      // No retry can fix a bad handler or payload: one attempt, one ✖ line, even with 3 allowed.
      assert.deepEqual(
        { attempts: row.attempts, failedLines: lines.length },
        { attempts: 1, failedLines: 1 },
        `job ${id} fails on its first attempt with no retry (its ✖ lines: ${lines.map((l) => l.message.replace(/^.* \(/, '(')).join(' ')})`,
      );
      assert.match(lines[0]!.message, /attempt 1\/3, failed\)$/);
      return row;
    }

    test("unknown handler 'Nope': failed, the message names it", { timeout: 30_000 }, () => {
      failedOnce(ids.nope, /Unknown job handler 'Nope'/);
    });

    test("'BadImport' (throws while loading): failed, the message says it failed to load", { timeout: 30_000 }, () => {
      failedOnce(ids.badImport, /Job handler 'BadImport' failed to load .*this module cannot be loaded/);
    });

    test("'NoRun' (a class with no run()): failed, exports no job class", { timeout: 30_000 }, () => {
      failedOnce(ids.noRun, /Job handler 'NoRun' .*exports no job class/);
    });

    test('a payload that is not JSON: failed, naming invalid JSON', { timeout: 30_000 }, () => {
      failedOnce(ids.badJson, /payload .*not valid JSON/);
    });

    test("handler '../evil' inserted raw: failed with 'Invalid job handler name' on its first attempt", { timeout: 30_000 }, () => {
      failedOnce(ids.evil, /Invalid job handler name '\.\.\/evil'/);
    });

    test('the runtime keeps running: a following Ok job is processed once, then SIGTERM stops it with exit 0', { timeout: 30_000 }, () => {
      assert.equal(rows.get(ids.following), null, 'the following job completed and its row is gone');
      assert.equal(parseJobLines(result.stdout).ok.filter((id) => id === ids.following).length, 1);
      assert.equal(result.signal, null);
      assert.equal(result.code, 0, result.stderr.slice(-2000));
      assert.ok(result.stdout.includes('jobs-runtime stopped'), 'the stop line is printed');
    });
  });
}

// 300 jobs that each throw 200,000 characters, failing in the same few result writes: the
// error kept with each job is cut to 16 KB, the ✖ line to 1,000 characters, and MySQL writes
// the batch in parts below max_allowed_packet. Before, the write was refused and retried for
// ever, and no result was stored.
for (const kind of ALL_STORE_KINDS) {
  describe(`huge error texts: ${kind}`, () => {
    let app: E2eApp;
    before(async () => {
      app = await createApp(kind, `huge_errors_${kind}`);
    });
    after(async () => {
      killAll();
      await app?.close();
    });

    test('300 jobs throwing 200,000 characters each: all failed and stored, their errors cut', { timeout: 90_000 }, async () => {
      const ids = await app.store.producer.enqueue({ jobs: Array.from({ length: 300 }, () => jobRow({ handler: 'ThrowsLong', payload: { chars: 200_000 } })) });
      const rt = startCli(['start', '--procs', '2', '--stop-when-empty', ...app.storeArgs], { cwd: app.dir, timeoutMs: 80_000 });
      const r = await rt.done;
      assert.equal(r.code, 0, r.stderr.slice(-2000));
      assert.match(r.stdout, /jobs-runtime stopped: 0 completed, 300 failed/);
      const lines = r.stderr.split('\n').filter((l) => l.includes('✖ Error dispatching job'));
      assert.equal(lines.length, 300);
      assert.ok(
        lines.every((l) => l.length < 1_200),
        `longest ✖ line: ${Math.max(...lines.map((l) => l.length))} characters`,
      );
      for (const id of [ids[0]!, ids[299]!]) {
        const row = await app.store.admin.getJob({ id });
        assert.equal(row?.status, 'failed');
        assert.ok(row!.exception!.startsWith('Error: response body: xxx'));
        assert.match(row!.exception!, /… \(\d+ more characters cut\)$/);
        assert.ok(row!.exception!.length < 16_500, `kept ${row!.exception!.length} characters`);
      }
    });
  });
}
