// No job waits behind another (issue 13): a thread takes a job only when it is free to run it, so
// a thread that dies loses only the job it was running, a short job never waits behind a long one
// while jobs dispatched after it run elsewhere, and --queue order holds across threads. Every
// case runs the real runtime on a backlog enqueued before it starts (claim order = dispatch
// order), and judges the pool from what the jobs themselves recorded.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { overtaken, parseSpans, type JobSpan } from '../bench/schedule.ts';
import { killAll, parseJobLines, runCli, type CliResult } from './helpers/cli.ts';
import { ALL_STORE_KINDS, createApp, tally, type E2eApp } from './helpers/e2e.ts';
import { jobRow } from './helpers/job-rows.ts';
import { readRecords } from './helpers/reliability.ts';

after(() => killAll());

/** Runs `start … --stop-when-empty` to the end (bounded), failing with its output if it does not exit 0. */
async function runToEmpty(app: E2eApp, args: string[], timeoutMs: number): Promise<CliResult> {
  const run = await runCli(['start', ...args, '--stop-when-empty', ...app.storeArgs], { cwd: app.dir, timeoutMs });
  assert.equal(run.signal, null, `the runtime was killed after ${timeoutMs} ms (stdout tail: ${run.stdout.slice(-800)})`);
  assert.equal(run.code, 0, run.stderr.slice(-2000));
  return run;
}

/** Spans jobs, in dispatch order n, each waiting `ms(n)` (async): one enqueue, so ids follow n too. */
async function enqueueSpans(app: E2eApp, file: string, count: number, ms: (n: number) => number, queue = 'default', firstN = 0) {
  const jobs = Array.from({ length: count }, (_, i) => jobRow({ handler: 'Spans', queue, payload: { file, n: firstN + i, ms: ms(firstN + i) } }));
  await app.store.producer.enqueue({ jobs });
}

function spansOf(file: string, expected: number): JobSpan[] {
  const spans = parseSpans(readFileSync(file, 'utf8'));
  assert.equal(spans.length, expected, 'every job recorded its run');
  return spans;
}

for (const kind of ALL_STORE_KINDS) {
  describe(`pool fairness: ${kind}`, () => {
    let app: E2eApp;

    before(async () => {
      app = await createApp(kind, `pool_fair_${kind}`);
    });

    after(async () => {
      killAll();
      await app?.close();
    });

    test('a job that ends its thread among 300 fast jobs (--procs 2): every fast job runs once, the killer fails saying why', { timeout: 90_000 }, async () => {
      const file = join(app.dir, 'fast.txt');
      const fast = (from: number) => Array.from({ length: 150 }, (_, i) => jobRow({ handler: 'Records', payload: { file, n: from + i } }));
      // The killer in the middle, when claims are big: fast jobs queue in the pool on either side of it.
      const ids = await app.store.producer.enqueue({ jobs: [...fast(0), jobRow({ handler: 'Exits' }), ...fast(150)] });
      const killer = ids[150]!;
      const fastIds = ids.filter((id) => id !== killer);
      const run = await runToEmpty(app, ['--procs', '2'], 60_000);

      const row = await app.store.admin.getJob({ id: killer });
      assert.equal(row?.status, 'failed', 'the killer is failed (attempts = 1)');
      assert.equal(row?.attempts, 1);
      assert.match(row?.exception ?? '', /^ended its worker thread with exit code 3 /);
      const lines = parseJobLines(run.stderr).failed.filter((f) => f.id === killer);
      assert.equal(lines.length, 1, 'one ✖ line for the killer');
      assert.match(lines[0]!.message, /^ended its worker thread with exit code 3 .*\(Exits, attempt 1\/1, failed\)$/);

      const runs = tally(readRecords(file).map((r) => r.id));
      const twice = fastIds.filter((id) => (runs.get(id) ?? 0) > 1);
      const never = fastIds.filter((id) => !runs.has(id));
      console.log(`  ${kind}: fast jobs run twice ${twice.length}, never ${never.length}`);
      assert.deepEqual(
        { twice: twice.length, never: never.length },
        { twice: 0, never: 0 },
        `fast jobs run more than once: ${twice.slice(0, 10).join(', ')}; never run: ${never.slice(0, 10).join(', ')}`,
      );
      assert.equal(runs.size, 300);

      assert.match(run.stdout, /jobs-runtime stopped: 300 completed, 1 failed, 0 retried/);
    });

    // The backlog is there when the runtime starts, so this also covers its first seconds: a
    // thread still loading job code is not free either, and a job sent to it must not wait there
    // while threads that are ready run jobs dispatched after it.
    test('4 jobs of 3 s among 1,000 of 1 ms (--procs 4): no short job starts > 1 s after a later-dispatched short job', { timeout: 120_000 }, async () => {
      const file = join(app.dir, 'mixed.txt');
      const LONG_AT = new Set([100, 350, 600, 850]);
      await enqueueSpans(app, file, 1004, (n) => (LONG_AT.has(n) ? 3000 : 1));
      await runToEmpty(app, ['--procs', '4', '--quiet'], 90_000);

      const short = spansOf(file, 1004).filter((s) => !LONG_AT.has(s.n));
      const late = overtaken(short, 1000);
      const worst = late.reduce((w, o) => Math.max(w, o.byMs), 0);
      console.log(`  ${kind}: ${late.length} short job(s) overtaken by > 1 s (worst ${Math.round(worst)} ms)`);
      assert.deepEqual(
        late.slice(0, 5).map((o) => o.n),
        [],
        `${late.length} short job(s) started > 1 s after a short job dispatched after them had started (worst ${Math.round(worst)} ms; n, ms: ${late
          .slice(0, 10)
          .map((o) => `${o.n}:${Math.round(o.byMs)}`)
          .join(' ')})`,
      );
    });

    // All of a is enqueued (and so claimed) before any of b, whatever the claim sizes: a claim
    // takes every due job of a before one of b, and a later claim finds a empty. So in a pool that
    // keeps claim order across threads no b job starts while an a job waits; 50 ms of tolerance
    // for one job's start. Three long a jobs on four threads leave one thread for the rest of a.
    test('--queue a,b, long jobs among a (--procs 4): no b job starts while an a job waits in the pool', { timeout: 120_000 }, async () => {
      const file = join(app.dir, 'order.txt');
      const LONG_AT = new Set([100, 200, 300]);
      await enqueueSpans(app, file, 400, (n) => (LONG_AT.has(n) ? 1000 : 1), 'a');
      await enqueueSpans(app, file, 200, () => 1, 'b', 400);
      await runToEmpty(app, ['--procs', '4', '--queue', 'a,b', '--quiet'], 90_000);

      const spans = spansOf(file, 600);
      const firstB = Math.min(...spans.filter((s) => s.n >= 400).map((s) => s.start));
      const lateA = spans.filter((s) => s.n < 400 && s.start > firstB + 50);
      const worst = lateA.reduce((w, s) => Math.max(w, s.start - firstB), 0);
      console.log(`  ${kind}: ${lateA.length} a job(s) started > 50 ms after the first b job (worst ${Math.round(worst)} ms)`);
      assert.deepEqual(
        lateA.slice(0, 5).map((s) => s.n),
        [],
        `${lateA.length} a job(s) started after the first b job had (worst by ${Math.round(worst)} ms)`,
      );
    });
  });
}
