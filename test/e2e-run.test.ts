// End to end, on every store: an app dispatches a mix of jobs, `start --procs 4 --stop-when-empty`
// runs them on worker threads, and the output and the table say exactly what happened to each.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { killAll, parseJobLines, runCli, type CliResult } from './helpers/cli.ts';
import { ANSI_ESCAPE, assertHas, assertHasNot, createApp, JOBS_DIR, lines, PLAIN_LINE, STORE_KINDS, tally, type E2eApp } from './helpers/e2e.ts';
import Ok from './fixtures/jobs/Ok.ts';
import Throws from './fixtures/jobs/Throws.ts';
import FailsPermanently from './fixtures/jobs/FailsPermanently.ts';
import Hooks from './fixtures/jobs/Hooks.ts';

after(() => killAll());

for (const kind of STORE_KINDS) {
  describe(`e2e run: ${kind}`, () => {
    let app: E2eApp;
    let run: CliResult;
    let runMs = 0;
    let hookFile: string;
    const ids = {
      ok: [] as number[],
      legacy: 0,
      deep: 0,
      compiled: 0,
      throws: [] as number[],
      permanent: [] as number[],
      delayed: [] as number[],
      hookOk: 0,
      hookFail: 0,
    };

    before(
      async () => {
        app = await createApp(kind, `e2e_run_${kind}`);
        hookFile = join(app.dir, 'hooks.txt');

        // A few through the CLI, as an operator would (in parallel: each is a process start).
        const cli = (handler: string, ...extra: string[]) =>
          runCli(['dispatch', handler, ...app.storeArgs, ...extra], { cwd: app.dir, timeoutMs: 20_000 }).then((r) => {
            assert.equal(r.code, 0, `dispatch ${handler} failed: ${r.stderr}`);
            assert.match(r.stdout, /^\d+\n$/, `dispatch ${handler} prints the new id`);
            return Number(r.stdout.trim());
          });
        const [okCli, legacy, deep, compiled, delayedCli] = await Promise.all([
          cli('Ok', '--payload', '{"n":-1}'),
          cli('Legacy'),
          cli('nested/Deep'),
          cli('Compiled'),
          cli('Ok', '--delay', '1 hour'),
        ]);
        Object.assign(ids, { legacy: legacy!, deep: deep!, compiled: compiled! });

        // The bulk through the store API, rows made by the Job classes (their settings included).
        const ok = new Ok();
        const okIds = await app.store.producer.enqueue({ jobs: Array.from({ length: 199 }, (_, n) => ok.toNewJob({ n })) });
        ids.ok = [okCli!, ...okIds];
        ids.throws = await app.store.producer.enqueue({ jobs: Array.from({ length: 10 }, () => new Throws().toNewJob({})) });
        ids.permanent = await app.store.producer.enqueue({ jobs: Array.from({ length: 5 }, () => new FailsPermanently().toNewJob(undefined)) });
        ids.delayed = [
          delayedCli!,
          ...(await app.store.producer.enqueue({ jobs: Array.from({ length: 4 }, (_, n) => ok.toNewJob({ n }, { delay: '+1 hour' })) })),
        ];
        [ids.hookOk, ids.hookFail] = (await app.store.producer.enqueue({
          jobs: [new Hooks().toNewJob({ file: hookFile, fail: false }), new Hooks().toNewJob({ file: hookFile, fail: true })],
        })) as [number, number];
        assert.equal(await app.count(), 200 + 3 + 10 + 5 + 5 + 2);

        const t0 = Date.now();
        run = await runCli(['start', '--procs', '4', '--stop-when-empty', ...app.storeArgs], { cwd: app.dir, timeoutMs: 60_000 });
        runMs = Date.now() - t0;
      },
      { timeout: 90_000 },
    );

    after(
      async () => {
        killAll();
        await app?.close();
      },
      { timeout: 30_000 },
    );

    test('exits 0 by itself once nothing is due, printing the banner and the stop summary', { timeout: 30_000 }, () => {
      assert.equal(run.signal, null, `killed after ${runMs} ms (stdout tail: ${run.stdout.slice(-500)})`);
      assert.equal(run.code, 0, run.stderr.slice(-2000));
      // Only the banner and stop lines, so a failure does not dump 200 job lines.
      const banner = lines(run.stdout).find((l) => l.includes(' started: '));
      assert.ok(banner, 'a start banner is printed');
      assert.match(banner, new RegExp(`jobs-runtime \\S+ started: store ${kind}:\\S+ .*4 thread\\(s\\)`));
      assert.match(banner, new RegExp(`jobs from ${JOBS_DIR}`));
      const stop = lines(run.stdout).find((l) => l.includes('jobs-runtime stopped'));
      assert.ok(stop, 'a stop line is printed');
      // 200 Ok + Legacy + Deep + Compiled + Hooks ok = 204 completed; 10 Throws + 5 permanent + Hooks fail = 16
      // failed; 10 Throws + Hooks fail retried once each.
      assert.match(stop, /jobs-runtime stopped: 204 completed, 16 failed, 11 retried, 0 given back/);
    });

    test('piped output: every line starts with an ISO timestamp and a level; ✔ on stdout, ✖ on stderr', { timeout: 30_000 }, () => {
      for (const l of [...lines(run.stdout), ...lines(run.stderr)]) assert.match(l, PLAIN_LINE);
      assertHasNot(run.stdout, /✖/);
      assertHasNot(run.stderr, /✔/);
      assertHasNot(run.stdout + run.stderr, ANSI_ESCAPE, 'no ANSI codes when piped');
    });

    test('every successful job has exactly one ✔ line and its row is gone', { timeout: 30_000 }, async () => {
      const ok = tally(parseJobLines(run.stdout).ok);
      const expected = [...ids.ok, ids.legacy, ids.deep, ids.compiled, ids.hookOk];
      assert.equal(expected.length, 204);
      for (const id of expected) assert.equal(ok.get(id), 1, `✔ lines for job ${id}`);
      assert.equal(ok.size, expected.length, 'no ✔ line for any other job');
      for (const id of expected) assert.equal(await app.store.admin.getJob({ id }), null, `row of job ${id} is deleted`);
      assertHas(run.stdout, new RegExp(`✔ Job processed successfully: ${ids.legacy} \\(Legacy, `));
      assertHas(run.stdout, new RegExp(`✔ Job processed successfully: ${ids.deep} \\(nested/Deep, `));
      assertHas(run.stdout, new RegExp(`✔ Job processed successfully: ${ids.compiled} \\(Compiled, `));
    });

    test('Throws: a retry line then a failed line, and the row ends failed after 2 attempts with the stack', { timeout: 30_000 }, async () => {
      const failed = parseJobLines(run.stderr).failed;
      for (const id of ids.throws) {
        const mine = failed.filter((f) => f.id === id);
        assert.equal(mine.length, 2, `✖ lines for Throws job ${id}`);
        assert.match(mine[0]!.message, /^boom \(Throws, attempt 1\/2, retrying now\) at \S*Throws\.ts:\d+:\d+$/);
        assert.match(mine[1]!.message, /^boom \(Throws, attempt 2\/2, failed\) at \S*Throws\.ts:\d+:\d+$/);
        const row = await app.store.admin.getJob({ id });
        assert.ok(row, `row of Throws job ${id} is kept`);
        assert.equal(row.status, 'failed');
        assert.equal(row.attempts, 2);
        assert.equal(row.maxAttempts, 2);
        assert.match(row.exception ?? '', /boom/);
        assert.match(row.exception ?? '', /\n\s+at .*Throws/, 'exception keeps a stack line');
        assert.ok(row.failedAt instanceof Date && !Number.isNaN(row.failedAt.getTime()), 'failed_at is set');
        assert.equal(row.owner, null);
      }
    });

    test('FailsPermanently: one ✖ line, failed after 1 attempt despite attempts = 5', { timeout: 30_000 }, async () => {
      const failed = parseJobLines(run.stderr).failed;
      for (const id of ids.permanent) {
        const mine = failed.filter((f) => f.id === id);
        assert.equal(mine.length, 1, `✖ lines for FailsPermanently job ${id}`);
        assert.match(mine[0]!.message, /^Recipient email address is missing \(FailsPermanently, attempt 1\/5, failed\) at \S*FailsPermanently\.ts:\d+:\d+$/);
        const row = (await app.store.admin.getJob({ id }))!;
        assert.equal(row.status, 'failed');
        assert.equal(row.attempts, 1);
        assert.equal(row.maxAttempts, 5);
        assert.match(row.exception ?? '', /Recipient email address is missing/);
        assert.ok(row.failedAt, 'failed_at is set');
      }
    });

    test('delayed jobs are untouched: new, 0 attempts, no output', { timeout: 30_000 }, async () => {
      const all = parseJobLines(run.stdout + run.stderr);
      for (const id of ids.delayed) {
        const row = (await app.store.admin.getJob({ id }))!;
        assert.equal(row.status, 'new', `delayed job ${id}`);
        assert.equal(row.attempts, 0);
        assert.equal(row.exception, null);
        assert.ok(row.scheduledAt.getTime() > Date.now() + 50 * 60_000, 'still due in about an hour');
        assert.ok(!all.ok.includes(id) && !all.failed.some((f) => f.id === id));
      }
    });

    test('hooks: onSuccess once; onFailure exactly once, on the final attempt only', { timeout: 30_000 }, async () => {
      const hookLines = readFileSync(hookFile, 'utf8').split('\n').filter(Boolean).sort();
      assert.deepEqual(hookLines, [`failure ${ids.hookFail} attempt 2 hooked failure`, `success ${ids.hookOk}`].sort());
      const failed = parseJobLines(run.stderr).failed.filter((f) => f.id === ids.hookFail);
      assert.equal(failed.length, 2);
      const row = (await app.store.admin.getJob({ id: ids.hookFail }))!;
      assert.equal(row.status, 'failed');
      assert.equal(row.attempts, 2);
    });

    test('nothing else is left in the table, and nothing is left claimed', { timeout: 30_000 }, async () => {
      assert.equal(await app.count(), 10 + 5 + 1 + 5);
      assert.equal(await app.count("status = 'processing'"), 0);
      assert.equal(await app.count('owner IS NOT NULL'), 0);
    });
  });
}
