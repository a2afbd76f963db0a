// The `start` options an operator relies on, end to end against the real bin: queue priority,
// output formats, the log file, quiet mode, graceful SIGTERM, and refusal of bad values.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { killAll, parseJobLines, runCli, startCli } from './helpers/cli.ts';
import { ANSI_ESCAPE, assertHas, assertHasNot, createApp, lines, PLAIN_LINE, type E2eApp, type StoreKind } from './helpers/e2e.ts';
import { sleep, waitFor } from './helpers/wait.ts';
import { readTrace } from './helpers/reliability.ts';
import Ok from './fixtures/jobs/Ok.ts';
import Throws from './fixtures/jobs/Throws.ts';
import FailsPermanently from './fixtures/jobs/FailsPermanently.ts';
import { jobRow } from './helpers/job-rows.ts';

after(() => killAll());

/** Runs `fn` with a fresh app of its own (so no test sees another's jobs), then removes it. */
async function withApp(kind: StoreKind, suite: string, fn: (app: E2eApp) => Promise<void>): Promise<void> {
  const app = await createApp(kind, suite);
  try {
    await fn(app);
  } finally {
    killAll();
    await app.close();
  }
}

/** `--queue a,b`: every due job of a before any of b, and other queues untouched. */
async function strictQueueOrder(app: E2eApp): Promise<void> {
  const ok = new Ok();
  // b is dispatched first: were the order by due time or id, b would run first.
  const b = await app.store.producer.enqueue({ jobs: Array.from({ length: 4 }, (_, n) => ok.toNewJob({ n }, { queue: 'b' })) });
  const a = await app.store.producer.enqueue({ jobs: Array.from({ length: 4 }, (_, n) => ok.toNewJob({ n }, { queue: 'a' })) });
  const [c] = await app.store.producer.enqueue({ jobs: [ok.toNewJob({}, { queue: 'c' })] });
  const r = await runCli(['start', '--queue', 'a,b', '--procs', '1', '--batch', '1', '--stop-when-empty', ...app.storeArgs], {
    cwd: app.dir,
    timeoutMs: 30_000,
  });
  assert.equal(r.code, 0, r.stderr);
  assert.match(lines(r.stdout).find((l) => l.includes(' started: ')) ?? '', /queues a > b/);
  const order = parseJobLines(r.stdout).ok;
  assert.deepEqual(order, [...a, ...b], 'all of a (in dispatch order), then all of b');
  const rowC = (await app.store.admin.getJob({ id: c! }))!;
  assert.equal(rowC.status, 'new', 'queue c is not run');
  assert.equal(rowC.attempts, 0);
}

describe('e2e start options: sqlite', () => {
  test('--queue a,b runs queues in strict priority order', { timeout: 60_000 }, async () => {
    await withApp('sqlite', 'opt_queue', strictQueueOrder);
  });

  test('--json prints one parseable JSON object per line, with event names', { timeout: 60_000 }, async () => {
    await withApp('sqlite', 'opt_json', async (app) => {
      const okIds = await app.store.producer.enqueue({ jobs: [0, 1, 2].map((n) => new Ok().toNewJob({ n })) });
      const [throwsId] = await app.store.producer.enqueue({ jobs: [new Throws().toNewJob({ message: 'json boom' })] });
      const r = await runCli(['start', '--json', '--procs', '2', '--stop-when-empty', ...app.storeArgs], { cwd: app.dir, timeoutMs: 30_000 });
      assert.equal(r.code, 0, r.stderr);
      const events = lines(r.stdout).map((l, i) => {
        try {
          return JSON.parse(l) as Record<string, unknown>;
        } catch (e) {
          throw new Error(`stdout line ${i + 1} is not JSON (${(e as Error).message}): ${l}`);
        }
      });
      for (const e of events) {
        assert.equal(typeof e.event, 'string', `every object names its event: ${JSON.stringify(e)}`);
        assert.ok(!Number.isNaN(Date.parse(String(e.ts))), `every object has a timestamp: ${JSON.stringify(e)}`);
        assert.equal(typeof e.level, 'string');
      }
      const completed = events.filter((e) => e.event === 'job.completed').map((e) => e.id);
      assert.deepEqual([...completed].sort(), [...okIds].sort());
      const retrying = events.filter((e) => e.event === 'job.retrying');
      const failed = events.filter((e) => e.event === 'job.failed');
      assert.deepEqual(
        retrying.map((e) => [e.id, e.error, e.attempts]),
        [[throwsId, 'json boom', 1]],
      );
      assert.deepEqual(
        failed.map((e) => [e.id, e.error, e.attempts]),
        [[throwsId, 'json boom', 2]],
      );
      assert.ok(
        events.some((e) => typeof e.message === 'string' && e.message.includes(' started: ')),
        'the banner is an event too',
      );
      assert.ok(
        events.some((e) => typeof e.message === 'string' && e.message.includes('stopped')),
        'so is the stop line',
      );
      assertHasNot(r.stdout + r.stderr, /✔ Job processed|✖ Error dispatching/, 'text job lines in --json mode');
    });
  });

  test('--log FILE appends plain lines, without ANSI codes, with the ✔ and ✖ lines', { timeout: 60_000 }, async () => {
    await withApp('sqlite', 'opt_log', async (app) => {
      const logFile = join(app.dir, 'worker.log');
      const okIds = await app.store.producer.enqueue({ jobs: [0, 1, 2].map((n) => new Ok().toNewJob({ n })) });
      const [failId] = await app.store.producer.enqueue({ jobs: [new FailsPermanently().toNewJob(undefined)] });
      // Colour forced on: the file must stay plain whatever the terminal gets.
      const r = await runCli(['start', '--log', logFile, '--procs', '2', '--stop-when-empty', ...app.storeArgs], {
        cwd: app.dir,
        env: { FORCE_COLOR: '1' },
        timeoutMs: 30_000,
      });
      assert.equal(r.code, 0, r.stderr);
      assert.ok(existsSync(logFile), 'the log file is created');
      const text = readFileSync(logFile, 'utf8');
      assertHasNot(text, ANSI_ESCAPE, 'ANSI escape codes');
      for (const l of lines(text)) assert.match(l, PLAIN_LINE);
      const parsed = parseJobLines(text);
      assert.deepEqual([...parsed.ok].sort(), [...okIds].sort());
      assert.deepEqual(
        parsed.failed.map((f) => f.id),
        [failId],
      );
      assert.match(parsed.failed[0]!.message, /Recipient email address is missing/);
      assertHas(text, / started: /, 'the banner');
      assertHas(text, /jobs-runtime stopped/, 'the stop line');
    });
  });

  test('--quiet hides the ✔ lines but keeps the ✖ lines', { timeout: 60_000 }, async () => {
    await withApp('sqlite', 'opt_quiet', async (app) => {
      const okIds = await app.store.producer.enqueue({ jobs: [0, 1, 2].map((n) => new Ok().toNewJob({ n })) });
      const [failId] = await app.store.producer.enqueue({ jobs: [new FailsPermanently().toNewJob(undefined)] });
      const r = await runCli(['start', '--quiet', '--procs', '2', '--stop-when-empty', ...app.storeArgs], { cwd: app.dir, timeoutMs: 30_000 });
      assert.equal(r.code, 0, r.stderr);
      assertHasNot(r.stdout + r.stderr, /✔/, 'a ✔ line');
      assert.deepEqual(
        parseJobLines(r.stderr).failed.map((f) => f.id),
        [failId],
      );
      for (const id of okIds) assert.equal(await app.store.admin.getJob({ id }), null, `job ${id} still ran`);
      assertHas(r.stdout, / started: /, 'the banner');
    });
  });

  test('SIGTERM: running jobs finish within the grace, unstarted ones are given back, nothing is lost', { timeout: 60_000 }, async () => {
    await withApp('sqlite', 'opt_sigterm', async (app) => {
      const rt = startCli(['start', '--procs', '2', '--grace', '10', '--sleep', '100ms', ...app.storeArgs], { cwd: app.dir, timeoutMs: 40_000 });
      // Warm up both threads first: a job still queued for a thread that is starting up is
      // "not started" and rightly given back; here the two Sleeps jobs must really be running.
      const warm = await app.store.producer.enqueue({ jobs: [jobRow({ handler: 'Ok' }), jobRow({ handler: 'Ok' })] });
      await waitFor('the warm-up jobs to complete', () => warm.every((id) => parseJobLines(rt.stdout()).ok.includes(id)), 20_000);

      const trace = join(app.dir, 'trace.txt');
      const ids = await app.store.producer.enqueue({
        jobs: Array.from({ length: 6 }, (_, n) => jobRow({ handler: 'Traced', payload: { file: trace, ms: 1500, traceStart: true, n } })),
      });
      await waitFor('two of the 1.5 s jobs to be running in their threads', () => readTrace(trace).filter((l) => l.kind === 'start').length >= 2, 15_000);
      const claimed = (await Promise.all(ids.map((id) => app.store.admin.getJob({ id })))).filter((r) => r?.status === 'processing').map((r) => r!.id);
      const t0 = Date.now();
      rt.child.kill('SIGTERM');
      const r = await rt.done;
      const stopMs = Date.now() - t0;
      assert.equal(r.signal, null, 'not killed');
      assert.equal(r.code, 0, r.stderr);
      assert.ok(stopMs < 10_000, `stopped within the 10 s grace (took ${stopMs} ms)`);
      assertHas(r.stdout, /SIGTERM received/, 'the SIGTERM line');

      const done = parseJobLines(r.stdout).ok.filter((id) => ids.includes(id));
      assert.equal(done.length, 2, `the two running Sleeps jobs complete (claimed at SIGTERM: ${claimed.join(', ')}; completed: ${done.join(', ')})`);
      for (const id of done) assert.ok(claimed.includes(id), `job ${id} was running at SIGTERM`);
      assert.deepEqual(parseJobLines(r.stderr).failed, []);
      const givenBack = claimed.length - done.length;
      assertHas(r.stdout, new RegExp(`jobs-runtime stopped: 4 completed, 0 failed, 0 retried, ${givenBack} given back`), 'the stop summary');

      const left = (await Promise.all(ids.map((id) => app.store.admin.getJob({ id })))).filter((row) => row !== null);
      assert.equal(left.length + done.length, ids.length, 'every job either completed or is still in the table');
      for (const row of left) {
        assert.equal(row!.status, 'new', `job ${row!.id} is back to new`);
        assert.equal(row!.attempts, 0, `job ${row!.id}'s attempt is not charged`);
        assert.equal(row!.owner, null);
      }
      assert.equal(await app.count(), ids.length - done.length);
    });
  });

  test('each thread imports every job file at start, before any job names it', { timeout: 60_000 }, async () => {
    await withApp('sqlite', 'opt_preload', async (app) => {
      const marks = join(app.dir, 'preloaded.txt');
      const rt = startCli(['start', '--procs', '3', ...app.storeArgs], { cwd: app.dir, env: { JOBS_TEST_PRELOAD_FILE: marks }, timeoutMs: 40_000 });
      // Worker threads only: thread id 0 is the main thread of `start`'s child that reads static schedules.
      const threads = () => (existsSync(marks) ? new Set(lines(readFileSync(marks, 'utf8')).filter((t) => t !== '0')) : new Set<string>());
      await waitFor('three threads to import Preloaded.ts', () => threads().size === 3, 20_000);
      assert.equal(await app.count(), 0, 'no job was dispatched');
      rt.child.kill('SIGTERM');
      const r = await rt.done;
      assert.equal(r.code, 0, r.stderr);
      // A file that fails to import: only `start`'s reading of static schedules says so, once (its
      // schedule, if any, cannot be declared); the threads leave it for the job that names it.
      assert.equal(lines(r.stderr).filter((l) => l.includes('BadImport')).length, 1, `one warning names BadImport: ${r.stderr.slice(-600)}`);
      assertHas(r.stderr, /BadImport.*its static schedule, if any, is not declared by this runtime/, 'the warning of the schedules reading');
    });
  });

  test('jobs that arrive unannounced are polled for at a tenth of --sleep while they keep coming', { timeout: 60_000 }, async () => {
    await withApp('sqlite', 'opt_adaptive_poll', async (app) => {
      const trace = join(app.dir, 'trace.txt');
      // No wake-up (as dispatches from another host), and a long idle poll.
      const rt = startCli(['start', '--procs', '2', '--sleep', '3', ...app.storeArgs], { cwd: app.dir, env: { JOBS_WAKE: '0' }, timeoutMs: 40_000 });
      await waitFor('the runtime to start', () => rt.stdout().includes(' started: '), 20_000);
      const enqueuedAt = new Map<number, number>();
      for (let n = 0; n < 40; n++) {
        const [id] = await app.store.producer.enqueue({ jobs: [jobRow({ handler: 'Traced', payload: { file: trace, traceStart: true, n } })] });
        enqueuedAt.set(id!, Date.now());
        await sleep(100); // the scenario: jobs keep arriving, ten a second (the waits are measured from the trace)
      }
      await waitFor('every job to start', () => readTrace(trace).filter((l) => l.kind === 'start').length === 40, 20_000);
      const starts = readTrace(trace).filter((l) => l.kind === 'start');
      const firstPoll = Math.min(...starts.map((l) => l.at));
      // Jobs enqueued after the first poll found work: a 3 s poll would leave them ~1.5 s on average.
      const waits = starts
        .filter((l) => enqueuedAt.get(l.id)! > firstPoll)
        .map((l) => l.at - enqueuedAt.get(l.id)!)
        .sort((a, b) => a - b);
      assert.ok(waits.length >= 10, `${waits.length} jobs enqueued after the first poll`);
      const median = waits[Math.floor(waits.length / 2)]!;
      assert.ok(median < 1_000, `median wait ${median} ms after polls found work (--sleep 3): ${waits.join(', ')}`);
      rt.child.kill('SIGTERM');
      assert.equal((await rt.done).code, 0);
    });
  });

  test('durations past 24.8 days (the most a Node timer takes) are honoured, not fired at once', { timeout: 60_000 }, async () => {
    await withApp('sqlite', 'opt_long_durations', async (app) => {
      const trace = join(app.dir, 'trace.txt');
      const LONG = ['--max-time', '30d', '--grace', '30d', '--sleep', '30d', '--prune-every', '30d', '--timeout', '30d'];
      await app.store.producer.enqueue({
        jobs: [...Array.from({ length: 3 }, () => jobRow({ handler: 'Ok' })), jobRow({ handler: 'Traced', payload: { file: trace, ms: 300 } })],
      });
      const drained = await runCli(['start', '--procs', '2', '--stop-when-empty', ...LONG, ...app.storeArgs], { cwd: app.dir, timeoutMs: 30_000 });
      assert.equal(drained.code, 0, `--max-time 30d did not end the run early: ${drained.stderr}`);
      assert.match(drained.stdout, /jobs-runtime stopped: 4 completed, 0 failed/);
      assertHasNot(drained.stderr, /TimeoutOverflowWarning/, 'no timer overflowed');

      // --grace 30d: a job running at SIGTERM is given its time, not stopped after 1 ms.
      const [slow] = await app.store.producer.enqueue({ jobs: [jobRow({ handler: 'Traced', payload: { file: trace, ms: 1500, traceStart: true } })] });
      const rt = startCli(['start', '--procs', '1', ...LONG, ...app.storeArgs], { cwd: app.dir, timeoutMs: 30_000 });
      await waitFor('the slow job to start', () => readTrace(trace).some((l) => l.kind === 'start' && l.id === slow), 20_000);
      rt.child.kill('SIGTERM');
      const r = await rt.done;
      assert.equal(r.code, 0, r.stderr);
      assertHasNot(r.stderr, /Grace period over/, 'the 30-day grace period did not end at once');
      assert.match(r.stdout, /jobs-runtime stopped: 1 completed, 0 failed, 0 retried, 0 given back/);
      assert.equal(await app.store.admin.getJob({ id: slow! }), null);
    });
  });

  test('invalid option values exit non-zero with a message naming the option', { timeout: 60_000 }, async () => {
    const cases: Array<[string[], RegExp]> = [
      [['--procs', '0'], /--procs/],
      [['--procs', 'abc'], /--procs/],
      [['--sleep', 'banana'], /--sleep/],
      [['--queue', 'a,,b;drop'], /--queue/],
      // Zero would be a busy loop (polls, heartbeats, pruning) or silently no limit at all.
      [['--sleep', '0'], /--sleep must be at least 10 ms, got '0'/],
      [['--heartbeat', '0'], /--heartbeat must be at least 100 ms, got '0'/],
      [['--prune-every', '0'], /--prune-every must be at least 1 s, got '0'/],
      [['--timeout', '0'], /--timeout must be at least 1 ms, got '0'/],
      [['--max-time', '0'], /--max-time must be at least 1 s, got '0'/],
    ];
    const results = await Promise.all(
      cases.map(([args]) => runCli(['start', ...args, '--stop-when-empty', '--database-url', 'sqlite::memory:'], { timeoutMs: 20_000 })),
    );
    results.forEach((r, i) => {
      const [args, re] = cases[i]!;
      assert.notEqual(r.code, 0, `${args.join(' ')} exits non-zero`);
      assert.match(r.stderr, re, `${args.join(' ')}: the message names the option`);
      assert.ok(r.stderr.includes(args[1]!), `${args.join(' ')}: the message quotes the value`);
      assert.doesNotMatch(r.stdout, / started: /, `${args.join(' ')}: nothing is started`);
    });
  });
});

describe('e2e start options: mysql', () => {
  test('--queue a,b runs queues in strict priority order', { timeout: 60_000 }, async () => {
    await withApp('mysql', 'opt_queue_mysql', strictQueueOrder);
  });
});
