// Flow control with real runtimes (issue 15), on every store: 3 runtimes × --procs 4 never run
// more than a concurrency key's limit at once, as the jobs themselves record it, even when one
// runtime is SIGKILLed holding slots; a rate limit holds across runtimes; backoff waits grow.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { killAll, startCli } from './helpers/cli.ts';
import { ALL_STORE_KINDS, createApp, type E2eApp } from './helpers/e2e.ts';
import { jobRow } from './helpers/job-rows.ts';
import { stopAll, waitForBanner } from './helpers/reliability.ts';
import { waitFor } from './helpers/wait.ts';

after(() => killAll());

interface Mark {
  kind: 'start' | 'end';
  n: number;
  attempt: number;
  runtimeId: string;
  at: number;
}

function readMarks(file: string): Mark[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => {
      const [kind, n, attempt, runtimeId, at] = l.split(' ');
      return { kind: kind as Mark['kind'], n: Number(n), attempt: Number(attempt), runtimeId: runtimeId!, at: Number(at) };
    });
}

/** Most runs holding a slot at once. A run with no end (its runtime was killed) holds it until `killedAt`. */
function maxOverlap(marks: Mark[], killedAt: number): number {
  const runs = new Map<string, { start: number; end: number }>();
  for (const m of marks) {
    const key = `${m.n}/${m.attempt}/${m.runtimeId}`;
    const run = runs.get(key) ?? { start: Number.NaN, end: killedAt };
    if (m.kind === 'start') run.start = m.at;
    else run.end = m.at;
    runs.set(key, run);
  }
  // Ends sort before starts at the same instant: a slot freed and taken again is not an overlap.
  const events = [...runs.values()].flatMap((r) => [
    [r.start, 1],
    [r.end, -1],
  ]);
  events.sort((a, b) => a[0]! - b[0]! || a[1]! - b[1]!);
  let now = 0;
  let most = 0;
  for (const [, d] of events) {
    now += d!;
    most = Math.max(most, now);
  }
  return most;
}

const runtimeArgs = (app: E2eApp) => ['start', '--procs', '4', '--sleep', '0.05', '--heartbeat', '0.5', '--dead-after', '2', '--quiet', ...app.storeArgs];

for (const kind of ALL_STORE_KINDS) {
  describe(`flow limits with 3 runtimes: ${kind}`, () => {
    let app: E2eApp;
    before(async () => {
      app = await createApp(kind, 'flow_limits');
    });
    after(async () => {
      killAll();
      await app?.close();
    });

    test('300 jobs of one concurrency key with limit 2: never more than 2 at once, a SIGKILLed runtime included', async () => {
      const file = join(app.dir, 'conc.txt');
      const conc = { key: 'account-7', limit: 2 };
      // Two long jobs first (most urgent): whoever takes them holds both slots for a while.
      const long = Array.from({ length: 2 }, (_, n) => jobRow({ handler: 'Holds', priority: -10, concurrency: conc, payload: { file, n, ms: 1500 } }));
      const short = Array.from({ length: 298 }, (_, k) => jobRow({ handler: 'Holds', concurrency: conc, payload: { file, n: k + 2, ms: 5 } }));
      await app.store.producer.enqueue({ jobs: [...long, ...short] });
      const runtimes = Array.from({ length: 3 }, () => startCli(runtimeArgs(app), { cwd: app.dir, timeoutMs: 120_000 }));
      await Promise.all(runtimes.map((r) => waitForBanner(r)));
      // Kill the runtime that holds a long job while it runs.
      const holder = await waitFor('a runtime to start a long job', () => readMarks(file).find((m) => m.kind === 'start' && m.n < 2), 20_000);
      const victim = runtimes.find((r) => holder.runtimeId.includes(`:${r.pid}:`));
      assert.ok(victim, `the holder ${holder.runtimeId} is one of ours`);
      process.kill(victim.pid, 'SIGKILL');
      const killedAt = performance.timeOrigin + performance.now();
      await waitFor(
        'every job to be done',
        async () => {
          const t = await app.totals();
          return t.waiting + t.delayed + t.processing + t.failed === 0;
        },
        90_000,
      );
      await stopAll(runtimes);
      const marks = readMarks(file);
      const ended = new Set(marks.filter((m) => m.kind === 'end').map((m) => m.n));
      assert.equal(ended.size, 300, 'every job ran to its end');
      assert.ok(
        marks.some(
          (m) => m.kind === 'start' && m.runtimeId === holder.runtimeId && !marks.some((e) => e.kind === 'end' && e.n === m.n && e.runtimeId === m.runtimeId),
        ),
        'the killed runtime was holding a slot',
      );
      assert.equal(maxOverlap(marks, killedAt), 2, 'at most 2 jobs of the key ran at once, and 2 did');
      assert.equal(
        marks.filter((m) => m.kind === 'start' && m.attempt > 1).length,
        0,
        'being held back spent no attempt (a recovered run is not charged either)',
      );
    });

    test('a rate limit of 5 per second across 3 runtimes: never more than 5 starts in a window', async () => {
      const file = join(app.dir, 'rate.txt');
      const rate = { key: 'partner-api', limit: 5, perMs: 1000 };
      const runtimes = Array.from({ length: 3 }, () => startCli(runtimeArgs(app), { cwd: app.dir, timeoutMs: 120_000 }));
      // Warm every thread first: a cold thread's first start lags its claim by its preload,
      // which would bunch the jobs' own start marks across a window boundary.
      await Promise.all(runtimes.map((r) => waitForBanner(r)));
      const warm = join(app.dir, 'warm.txt');
      await app.store.producer.enqueue({ jobs: Array.from({ length: 24 }, (_, n) => jobRow({ handler: 'Holds', payload: { file: warm, n, ms: 20 } })) });
      await waitFor('the warm-up jobs', () => readMarks(warm).filter((m) => m.kind === 'end').length >= 24 || null, 30_000);
      await app.store.producer.enqueue({ jobs: Array.from({ length: 20 }, (_, n) => jobRow({ handler: 'Holds', rate, payload: { file, n, ms: 1 } })) });
      await waitFor('all 20 jobs to run', () => readMarks(file).filter((m) => m.kind === 'end').length >= 20 || null, 30_000);
      await stopAll(runtimes);
      const starts = readMarks(file)
        .filter((m) => m.kind === 'start')
        .map((m) => m.at)
        .sort((a, b) => a - b);
      assert.equal(starts.length, 20, 'each job started once');
      // Windows are the store's (fixed, one second) and a job starts a little after its claim:
      // any 11 consecutive starts (more than two windows' worth) must span more than one second.
      for (let i = 0; i + 10 < starts.length; i++) {
        assert.ok(starts[i + 10]! - starts[i]! > 900, `11 starts within ${Math.round(starts[i + 10]! - starts[i]!)} ms`);
      }
      assert.ok(starts[19]! - starts[0]! > 2000, `20 starts at 5 a second take 3 windows at least: ${Math.round(starts[19]! - starts[0]!)} ms`);
    });

    test('exponential backoff: the waits between attempts grow as configured', async () => {
      const file = join(app.dir, 'backoff.txt');
      const row = jobRow({
        handler: 'Holds',
        maxAttempts: 4,
        retryAfterMs: 300,
        retryPolicy: JSON.stringify({ exponential: 300, max: null, jitter: false }),
        payload: { file, n: 1, ms: 1, fail: true },
      });
      await app.store.producer.enqueue({ jobs: [row] });
      const runtime = startCli(runtimeArgs(app), { cwd: app.dir, timeoutMs: 60_000 });
      await waitFor('the 4th attempt', () => readMarks(file).find((m) => m.kind === 'end' && m.attempt === 4), 20_000);
      await waitFor('the job to fail', async () => (await app.totals()).failed === 1 || null, 10_000);
      await stopAll([runtime]);
      const starts = readMarks(file)
        .filter((m) => m.kind === 'start')
        .map((m) => m.at);
      const waits = starts.slice(1).map((t, i) => t - starts[i]!);
      // 300, 600, 1200 ms after each failure (plus the run and a poll of at most 50 ms).
      [300, 600, 1200].forEach((expected, i) => {
        assert.ok(waits[i]! >= expected - 5 && waits[i]! < expected + 600, `wait ${i + 1} was ${Math.round(waits[i]!)} ms, expected about ${expected}`);
      });
    });
  });
}
