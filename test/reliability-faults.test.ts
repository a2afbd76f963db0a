// Thread faults are contained: a job that ends its worker thread (process.exit, an uncaught error
// from a timer, running out of heap, a hard timeout on CPU-bound or sleeping code) fails only
// that attempt, with a message naming what happened; jobs dispatched alongside all complete,
// the pool replaces the thread, and the master exits 0 with --stop-when-empty.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { killAll, parseJobLines, runCli, type CliResult } from './helpers/cli.ts';
import { ALL_STORE_KINDS, createApp, tally, type E2eApp } from './helpers/e2e.ts';
import Spins from './fixtures/jobs/Spins.ts';
import { jobRow } from './helpers/job-rows.ts';

const SLOW_LOAD_DIR = fileURLToPath(new URL('./fixtures/slow-load-jobs', import.meta.url));
const FROZEN_PRELOAD_DIR = fileURLToPath(new URL('./fixtures/frozen-preload-jobs', import.meta.url));
const HANGING_LOAD_DIR = fileURLToPath(new URL('./fixtures/hanging-load-jobs', import.meta.url));

after(() => killAll());

// Rows that are not the --timeout case get a generous limit of their own, so --timeout 300ms
// (the runtime default for rows without one) applies only to the Sleeps job and the Ok jobs.
const OWN_LIMIT = { timeoutMs: 30_000 };

const FAULTS = {
  exits: { handler: 'Exits', message: /^ended its worker thread with exit code 3 \(process\.exit\(\) in a job ends only its thread\)/ },
  timer: { handler: 'ThrowsFromTimer', message: /^uncaught error in its worker thread: thrown from a timer/ },
  memory: { handler: 'EatsMemory', message: /^ran out of memory: its worker thread reached its heap limit/ },
  spins: { handler: 'Spins', message: /^timed out after 300 ms: its thread was terminated/ },
  sleeps: { handler: 'Sleeps', message: /^timed out after 300 ms: its thread was terminated/ },
} as const;
type Fault = keyof typeof FAULTS;

for (const kind of ALL_STORE_KINDS) {
  describe(`thread faults: ${kind}`, () => {
    let app: E2eApp;
    let run: CliResult;
    let runMs = 0;
    const ids = {} as Record<Fault, number>;
    let okIds: number[] = [];
    let retried = 0;

    before(async () => {
      app = await createApp(kind, `rel_faults_${kind}`);
      const [exits, timer, memory] = await app.store.producer.enqueue({
        jobs: [
          jobRow({ handler: 'Exits', ...OWN_LIMIT }),
          jobRow({ handler: 'ThrowsFromTimer', ...OWN_LIMIT }),
          jobRow({ handler: 'EatsMemory', ...OWN_LIMIT }),
        ],
      });
      // Spins carries its class's own timeout (300ms); Sleeps has none, so --timeout applies.
      const [spins] = await app.store.producer.enqueue({ jobs: [new Spins().toNewJob(undefined)] });
      const [sleeps] = await app.store.producer.enqueue({ jobs: [jobRow({ handler: 'Sleeps', payload: { ms: 5000 } })] });
      retried = (await app.store.producer.enqueue({ jobs: [jobRow({ handler: 'Exits', ...OWN_LIMIT, maxAttempts: 2 })] }))[0]!;
      Object.assign(ids, { exits, timer, memory, spins, sleeps });
      // 40 Ok jobs after them in claim order: they run beside the faults and on the replacement threads.
      okIds = await app.store.producer.enqueue({ jobs: Array.from({ length: 40 }, (_, n) => jobRow({ handler: 'Ok', payload: { n } })) });
      const t0 = Date.now();
      run = await runCli(['start', '--procs', '2', '--max-memory-mb', '64', '--timeout', '300ms', '--stop-when-empty', ...app.storeArgs], {
        cwd: app.dir,
        timeoutMs: 60_000,
      });
      runMs = Date.now() - t0;
    });

    after(async () => {
      killAll();
      await app?.close();
    });

    test('the master survives every fault and exits 0 once the queue is empty', () => {
      assert.equal(run.signal, null, `killed after ${runMs} ms (stderr tail: ${run.stderr.slice(-800)})`);
      assert.equal(run.code, 0, run.stderr);
      // 40 Ok completed; 5 faults + the 2-attempt Exits failed; that one retried once.
      assert.match(run.stdout, /jobs-runtime stopped: 40 completed, 6 failed, 1 retried, 0 given back/);
    });

    for (const fault of Object.keys(FAULTS) as Fault[]) {
      const { handler, message } = FAULTS[fault];
      test(`${handler}: one failed attempt whose message names what happened`, async () => {
        const id = ids[fault];
        const lines = parseJobLines(run.stderr).failed.filter((f) => f.id === id);
        assert.equal(lines.length, 1, `one ✖ line for ${handler} job ${id}; stderr:\n${run.stderr.slice(-2000)}`);
        assert.match(lines[0]!.message, message);
        assert.match(lines[0]!.message, new RegExp(`\\(${handler}, attempt 1/1, failed\\)$`));
        const row = await app.store.admin.getJob({ id });
        assert.ok(row, `row of ${handler} job ${id} is kept`);
        assert.equal(row.status, 'failed');
        assert.equal(row.attempts, 1);
        assert.equal(row.owner, null);
        assert.match(row.exception ?? '', message);
      });
    }

    test('a job with attempts = 2 that exits its thread is retried, and fails after attempt 2', async () => {
      const lines = parseJobLines(run.stderr).failed.filter((f) => f.id === retried);
      assert.equal(lines.length, 2, `two ✖ lines for job ${retried}`);
      assert.match(lines[0]!.message, /^ended its worker thread with exit code 3 .*\(Exits, attempt 1\/2, retrying now\)$/);
      assert.match(lines[1]!.message, /^ended its worker thread with exit code 3 .*\(Exits, attempt 2\/2, failed\)$/);
      const row = await app.store.admin.getJob({ id: retried });
      assert.equal(row?.status, 'failed');
      assert.equal(row?.attempts, 2);
    });

    test('every Ok job dispatched alongside completed exactly once', async () => {
      const okFailures = parseJobLines(run.stderr).failed.filter((f) => okIds.includes(f.id));
      assert.deepEqual(okFailures.slice(0, 5), [], `no Ok job failed (${okFailures.length} did)`);
      const ok = tally(parseJobLines(run.stdout).ok);
      for (const id of okIds) assert.equal(ok.get(id), 1, `✔ lines for Ok job ${id}`);
      assert.equal(ok.size, okIds.length, 'no ✔ line for a faulty job');
      assert.deepEqual(await app.totals(), { waiting: 0, delayed: 0, processing: 0, failed: 6 }, 'only the 6 failed jobs are left');
      for (const id of okIds) assert.equal(await app.store.admin.getJob({ id }), null, `completed job ${id} is not kept`);
    });
  });
}

// The hard timeout is a limit on a job's own run. A runtime claims ahead when jobs are fast
// (claims are sized to the pace) and hands what it claimed to the thread pool, where jobs wait
// for a free thread; that wait is not the job's run and must not count against its timeout, nor
// does the first load of its code in a thread (bounded apart, by LOAD_LIMIT_MS).
describe("--timeout counts a job's own run, not its wait for a thread nor its code loading (sqlite)", () => {
  let app: E2eApp;
  before(async () => {
    app = await createApp('sqlite', 'rel_faults_queue');
  });
  after(async () => {
    killAll();
    await app?.close();
  });

  test('after a burst of fast jobs, three 600 ms jobs on one thread with --timeout 1s all complete', async () => {
    await app.store.producer.enqueue({ jobs: Array.from({ length: 300 }, (_, n) => jobRow({ handler: 'Ok', payload: { n } })) });
    const slow = await app.store.producer.enqueue({ jobs: Array.from({ length: 3 }, () => jobRow({ handler: 'Sleeps', payload: { ms: 600 } })) });
    const run = await runCli(['start', '--procs', '1', '--timeout', '1s', '--quiet', '--stop-when-empty', ...app.storeArgs], {
      cwd: app.dir,
      timeoutMs: 30_000,
    });
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(parseJobLines(run.stderr).failed, [], 'no job timed out: each ran 600 ms of its 1 s');
    assert.match(run.stdout, /jobs-runtime stopped: 303 completed, 0 failed/);
    for (const id of slow) assert.equal(await app.store.admin.getJob({ id }), null);
  });

  test('a job whose code takes 2.5 s to load the first time completes with --timeout 300ms', async () => {
    const [id] = await app.store.producer.enqueue({ jobs: [jobRow({ handler: 'SlowToLoad' })] });
    const run = await runCli(['start', '--procs', '1', '--timeout', '300ms', '--stop-when-empty', ...app.storeArgs, '--jobs-dir', SLOW_LOAD_DIR], {
      cwd: app.dir,
      timeoutMs: 30_000,
    });
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(parseJobLines(run.stderr).failed, [], 'loading is not part of the run');
    assert.deepEqual([...tally(parseJobLines(run.stdout).ok).keys()], [id]);
    // It finished 2.5 s or more after the runtime started (its code took that long to load), well
    // past --timeout: the wait for its code was not counted against the limit, nor in its duration.
    const took = /^(\S+) INFO +✔ Job processed successfully: \d+ \(SlowToLoad, ([\d.]+) (ms|s)\)/m.exec(run.stdout);
    const started = /^(\S+) INFO +jobs-runtime .* started:/m.exec(run.stdout);
    assert.ok(took && started, run.stdout);
    assert.ok(Date.parse(took[1]!) - Date.parse(started[1]!) >= 2_000, `it waited for its code: started ${started[1]}, ${took[0]}`);
    assert.ok(Number(took[2]) * (took[3] === 's' ? 1000 : 1) < 300, `its duration is its run, not its load: ${took[0]}`);
    assert.equal(await app.store.admin.getJob({ id: id! }), null);
  });

  test('a job whose code never finishes loading fails after the 30 s load limit, naming it', { timeout: 60_000 }, async () => {
    const [id] = await app.store.producer.enqueue({ jobs: [jobRow({ handler: 'NeverLoads' })] });
    const run = await runCli(['start', '--procs', '1', '--timeout', '1s', '--stop-when-empty', ...app.storeArgs, '--jobs-dir', HANGING_LOAD_DIR], {
      cwd: app.dir,
      timeoutMs: 50_000,
    });
    assert.equal(run.code, 0, run.stderr);
    const failed = parseJobLines(run.stderr).failed;
    assert.deepEqual(
      failed.map((f) => f.id),
      [id],
    );
    assert.equal(failed[0]!.message, 'timed out loading its code after 30 s: its thread was terminated (NeverLoads, attempt 1/1, failed)');
    assert.match(run.stdout, /jobs-runtime stopped: 0 completed, 1 failed/);
    const row = await app.store.admin.getJob({ id: id! });
    assert.equal(row?.status, 'failed');
    assert.match(row?.exception ?? '', /^timed out loading its code after 30 s/);
  });
});

// Every thread imports every job file when it starts. One whose top level never returns (an
// endless loop) froze every thread that way, before any job named it: now only the jobs that
// name it fail. The 30 s load limit is waited for on SQLite only; the others check the good jobs.
for (const kind of ALL_STORE_KINDS) {
  describe(`a job file that blocks its thread when imported (${kind})`, () => {
    let app: E2eApp;
    before(async () => {
      app = await createApp(kind, `rel_frozen_${kind}`);
    });
    after(async () => {
      killAll();
      await app?.close();
    });

    test('the other jobs run; the jobs that name it fail after the load limit', { timeout: 90_000 }, async () => {
      const good = await app.store.producer.enqueue({ jobs: Array.from({ length: 20 }, (_, n) => jobRow({ handler: 'Good', payload: { n } })) });
      const frozen = kind === 'sqlite' ? await app.store.producer.enqueue({ jobs: [jobRow({ handler: 'Freezes' })] }) : [];
      const t0 = Date.now();
      const run = await runCli(['start', '--procs', '2', '--stop-when-empty', ...app.storeArgs, '--jobs-dir', FROZEN_PRELOAD_DIR], {
        cwd: app.dir,
        timeoutMs: 80_000,
      });
      assert.equal(run.code, 0, run.stderr);
      const lines = parseJobLines(run.stdout + run.stderr);
      assert.deepEqual(
        [...tally(lines.ok).keys()].sort((a, b) => a - b),
        good,
        'every good job completed',
      );
      for (const id of good) assert.equal(await app.store.admin.getJob({ id }), null);
      if (frozen.length > 0) {
        assert.deepEqual(
          lines.failed.map((f) => [f.id, f.message]),
          [[frozen[0], 'timed out loading its code after 30 s: its thread was terminated (Freezes, attempt 1/1, failed)']],
        );
        assert.equal((await app.store.admin.getJob({ id: frozen[0]! }))?.status, 'failed');
      } else {
        assert.deepEqual(lines.failed, []);
        assert.ok(Date.now() - t0 < 30_000, `the good jobs did not wait for a load limit (${Date.now() - t0} ms)`);
      }
    });
  });
}
