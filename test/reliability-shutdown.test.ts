// Graceful shutdown, forced stop, restart limits and crash recovery, with real processes and
// real signals. Every job records its start and its finished run in a side file (Traced), so
// "nothing lost, nothing charged" is checked against what actually ran, not only the table.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, afterEach, beforeEach, describe, test } from 'node:test';
import { killAll, startCli, type RunningCli } from './helpers/cli.ts';
import { ALL_STORE_KINDS, createApp, type E2eApp, type StoreKind } from './helpers/e2e.ts';
import { countBy, exitWithin, readTrace, waitForBanner } from './helpers/reliability.ts';
import { waitFor } from './helpers/wait.ts';
import { type JobRowFields, jobRow } from './helpers/job-rows.ts';

after(() => killAll());

interface Ctx {
  app: E2eApp;
  trace: string;
  /** Enqueues `n` Traced jobs sleeping `ms`, recording their start; returns their ids. */
  traced(n: number, ms: number, over?: JobRowFields): Promise<number[]>;
  start(args: string[], timeoutMs?: number): RunningCli;
  /** Traced 'start' lines so far. */
  starts(): ReturnType<typeof readTrace>;
  /** Traced 'run' lines (finished runs) so far. */
  runs(): ReturnType<typeof readTrace>;
}

function suite(kind: StoreKind) {
  const ctx = {} as Ctx;
  beforeEach(async () => {
    const app = await createApp(kind, `rel_shutdown_${kind}`);
    const trace = join(app.dir, 'trace.txt');
    Object.assign(ctx, {
      app,
      trace,
      traced: (n: number, ms: number, over = {}) =>
        app.store.producer.enqueue({
          jobs: Array.from({ length: n }, () => jobRow({ handler: 'Traced', payload: { file: trace, ms, traceStart: true }, ...over })),
        }),
      start: (args: string[], timeoutMs = 60_000) => startCli(['start', ...args, ...app.storeArgs], { cwd: app.dir, timeoutMs }),
      starts: () => readTrace(trace).filter((l) => l.kind === 'start'),
      runs: () => readTrace(trace).filter((l) => l.kind === 'run'),
    } satisfies Ctx);
  });
  afterEach(async () => {
    killAll();
    await ctx.app?.close();
  });
  return ctx;
}

const byNumber = (a: number, b: number) => a - b;

/** ms from `t0` to the runtime's "Recovered … dead runtime(s)" line. */
function recoveredAfter(stderr: string, t0: number): number {
  const line = stderr.split('\n').find((l) => l.includes('Recovered '));
  return line ? Date.parse(line.slice(0, 24)) - t0 : NaN;
}

/** Every job is either finished exactly once (row gone) or waiting as new with no attempt charged. */
async function assertNothingLost(c: Ctx, ids: number[]): Promise<{ done: number[]; waiting: number[] }> {
  const runs = countBy(c.runs(), (l) => l.id);
  const done: number[] = [];
  const waiting: number[] = [];
  for (const id of ids) {
    const row = await c.app.store.admin.getJob({ id });
    if (row === null) {
      assert.equal(runs.get(id), 1, `job ${id}: its row is gone, so it ran to the end exactly once`);
      done.push(id);
    } else {
      assert.equal(runs.get(id), undefined, `job ${id} is still in the table but finished a run`);
      assert.equal(row.status, 'new', `job ${id} is back to new`);
      assert.equal(row.attempts, 0, `job ${id} is not charged an attempt`);
      assert.equal(row.owner, null, `job ${id} has no owner`);
      waiting.push(id);
    }
  }
  return { done, waiting };
}

describe('graceful shutdown and restart limits (sqlite)', () => {
  const c = suite('sqlite');

  test('SIGTERM with jobs in flight: the running ones complete, unstarted ones go back to new uncharged, exit 0', async () => {
    // 4 s jobs: the SIGTERM must reach the runtime before the first two end, or a third starts
    // before it (legitimately); on a loaded CI machine this test's own polling can lag by a second.
    const ids = await c.traced(20, 4000);
    const rt = c.start(['--procs', '2']);
    await waitFor('two jobs running', () => c.starts().length >= 2, 20_000);
    const sigtermAt = Date.now();
    process.kill(rt.pid, 'SIGTERM');
    const r = await exitWithin(rt, 10_000);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /SIGTERM received: stopping/);
    const started = c.starts();
    assert.ok(
      started.every((s) => s.at < sigtermAt),
      `no job started after SIGTERM (${sigtermAt}): ${JSON.stringify(started)}`,
    );
    const { done, waiting } = await assertNothingLost(c, ids);
    assert.deepEqual(done.sort(byNumber), started.map((s) => s.id).sort(byNumber), 'exactly the jobs running at SIGTERM completed');
    assert.equal(done.length, 2);
    assert.equal(waiting.length, 18);
    assert.match(r.stdout, /jobs-runtime stopped: 2 completed, 0 failed, 0 retried, \d+ given back/);
    assert.equal(await c.app.count("status = 'processing'"), 0);
  });

  test('SIGTERM after a burst of fast jobs: the jobs claimed ahead are given back at once and none starts after SIGTERM', async () => {
    // Fast jobs make the runtime claim ahead (claims are sized to the pace), so slow jobs that
    // follow them are claimed several at a time while only one thread runs.
    await c.app.store.producer.enqueue({ jobs: Array.from({ length: 300 }, () => jobRow({ handler: 'Ok' })) });
    const slow = await c.traced(10, 2000);
    const rt = c.start(['--procs', '1', '--quiet']);
    await waitFor('the first slow job to start', () => c.starts().length >= 1, 30_000);
    const sigtermAt = Date.now();
    process.kill(rt.pid, 'SIGTERM');
    const r = await exitWithin(rt, 15_000);
    assert.equal(r.code, 0, r.stderr);
    const late = c.starts().filter((s) => s.at > sigtermAt);
    assert.deepEqual(
      late.map((s) => s.id),
      [],
      'no job started after SIGTERM (each was claimed but not started: it goes back at once)',
    );
    const { done, waiting } = await assertNothingLost(c, slow);
    assert.equal(done.length, c.starts().length);
    assert.equal(await c.app.count(`status <> 'new'`), 0);
    const givenBack = Number(/(\d+) given back/.exec(r.stdout)?.[1]);
    assert.ok(givenBack >= 1, `jobs claimed ahead were given back (${givenBack}); ${waiting.length} slow jobs left`);
  });

  test('SIGTERM with --grace 1 on 10 s jobs: they are terminated and given back (new, attempts 0), exit 0 within ~3 s', async () => {
    const ids = await c.traced(6, 10_000);
    const rt = c.start(['--procs', '2', '--grace', '1']);
    await waitFor('two jobs running', () => c.starts().length >= 2, 20_000);
    process.kill(rt.pid, 'SIGTERM');
    const r = await exitWithin(rt, 6_000);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.ms < 3_000, `exited ${r.ms} ms after SIGTERM`);
    assert.match(r.stderr, /Grace period over: stopping 2 running job\(s\) and giving them back/);
    const { done, waiting } = await assertNothingLost(c, ids);
    assert.equal(done.length, 0);
    assert.equal(waiting.length, 6);
    assert.doesNotMatch(r.stderr, /✖ Error dispatching job/, 'a job stopped for shutdown is not a failed attempt');
  });

  test('double SIGINT exits 130 at once; the next runtime recovers the claimed jobs at its start (same host, pid gone)', async () => {
    const ids = await c.traced(4, 3000);
    const first = c.start(['--procs', '2']);
    const firstId = await waitForBanner(first);
    await waitFor('two jobs running', () => c.starts().length >= 2, 20_000);
    process.kill(first.pid, 'SIGINT');
    await waitFor('the first SIGINT to be handled', () => /SIGINT received/.test(first.stdout()), 5_000);
    process.kill(first.pid, 'SIGINT');
    const r = await exitWithin(first, 3_000);
    assert.equal(r.code, 130, r.stderr);
    assert.match(r.stderr, /Forced stop: 2 job\(s\) left claimed/);
    assert.equal(await c.app.count(`status = 'processing' AND owner = '${firstId}'`), 2, 'the two running jobs stay claimed by the forced runtime');

    const t0 = Date.now();
    const next = c.start(['--procs', '2', '--stop-when-empty']);
    const r2 = await exitWithin(next, 30_000);
    assert.equal(r2.code, 0, r2.stderr);
    assert.match(r2.stderr, new RegExp(`Recovered 1 dead runtime\\(s\\) ${firstId}: 2 job\\(s\\) given back to run again`));
    const { done } = await assertNothingLost(c, ids);
    assert.equal(done.length, 4, 'all four ran to the end on the next runtime');
    const interrupted = c
      .starts()
      .filter((s) => s.runtimeId === firstId)
      .map((s) => s.id);
    for (const id of interrupted) {
      const run = c.runs().find((l) => l.id === id)!;
      assert.notEqual(run.runtimeId, firstId);
      assert.equal(run.attempt, 1, `job ${id} interrupted by the forced stop runs again as attempt 1`);
    }
    console.log(`  forced stop (exit 130): the next runtime gave its 2 claimed jobs back ${recoveredAfter(r2.stderr, t0)} ms after it was spawned`);
  });

  test('--max-jobs 5: exit 75 with exactly 5 jobs done, the rest untouched', async () => {
    const ids = await c.traced(20, 0);
    const rt = c.start(['--procs', '2', '--max-jobs', '5']);
    const r = await exitWithin(rt, 20_000);
    assert.equal(r.code, 75, r.stderr);
    assert.match(r.stderr, /Claimed --max-jobs 5 jobs: draining, then exiting with code 75/);
    assert.match(r.stdout, /jobs-runtime stopped: 5 completed, 0 failed, 0 retried, 0 given back \(exit 75: restart requested\)/);
    const { done, waiting } = await assertNothingLost(c, ids);
    assert.equal(done.length, 5);
    assert.equal(waiting.length, 15);
  });

  test('--max-time 1: exit 75 after about a second, running jobs drained, nothing lost', async () => {
    const ids = await c.traced(40, 200);
    const t0 = Date.now();
    const rt = c.start(['--procs', '2', '--max-time', '1']);
    const r = await exitWithin(rt, 20_000);
    assert.equal(r.code, 75, r.stderr);
    assert.match(r.stderr, /Ran for --max-time 1\.0 s: draining, then exiting with code 75/);
    assert.ok(Date.now() - t0 < 10_000);
    const { done, waiting } = await assertNothingLost(c, ids);
    assert.ok(done.length > 0 && waiting.length > 0, `some done (${done.length}), some left (${waiting.length})`);
    assert.deepEqual(
      done.sort(byNumber),
      c
        .starts()
        .map((s) => s.id)
        .sort(byNumber),
      'every started job finished (drained)',
    );
  });

  test('--memory 1 (always over): exit 75 after draining', async () => {
    const ids = await c.traced(40, 200);
    const rt = c.start(['--procs', '2', '--memory', '1', '--heartbeat', '0.5']);
    const r = await exitWithin(rt, 20_000);
    assert.equal(r.code, 75, r.stderr);
    assert.match(r.stderr, /Master RSS \d+ MB is over --memory 1 MB: draining, then exiting with code 75/);
    const { done, waiting } = await assertNothingLost(c, ids);
    assert.ok(waiting.length > 0, 'it stopped claiming long before the queue was empty');
    assert.deepEqual(
      done.sort(byNumber),
      c
        .starts()
        .map((s) => s.id)
        .sort(byNumber),
      'every started job finished (drained)',
    );
  });
});

for (const kind of ALL_STORE_KINDS) {
  describe(`SIGKILL and restart: ${kind}`, () => {
    const c = suite(kind);

    test('a runtime killed mid-job: the job runs again on the next runtime, not charged an attempt (attempts = 1 still runs)', async () => {
      const [id] = (await c.traced(1, 1500)) as [number];
      const a = c.start(['--procs', '1']);
      const aId = await waitForBanner(a);
      await waitFor('the job to start', () => c.starts().length === 1, 20_000);
      process.kill(a.pid, 'SIGKILL');
      await exitWithin(a, 5_000);
      const row = await c.app.store.admin.getJob({ id });
      assert.equal(row?.status, 'processing');
      assert.equal(row?.owner, aId);

      const t0 = Date.now();
      const b = c.start(['--procs', '1', '--stop-when-empty']);
      const r = await exitWithin(b, 30_000);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, new RegExp(`Recovered 1 dead runtime\\(s\\) ${aId}: 1 job\\(s\\) given back to run again`));
      const runs = c.runs();
      assert.equal(runs.length, 1);
      assert.equal(runs[0]!.id, id);
      assert.notEqual(runs[0]!.runtimeId, aId);
      assert.equal(runs[0]!.attempt, 1, 'the run on the new runtime is attempt 1 of 1');
      assert.equal(await c.app.store.admin.getJob({ id }), null, 'completed and deleted');
      console.log(`  SIGKILL (${kind}): the next runtime gave the job back ${recoveredAfter(r.stderr, t0)} ms after it was spawned`);
    });

    test('a job whose runtime is killed more than --max-interruptions times is failed with a message saying so', async () => {
      const [id] = (await c.traced(1, 60_000)) as [number];
      const ids: string[] = [];
      for (let kill = 1; kill <= 2; kill++) {
        const rt = c.start(['--procs', '1', '--max-interruptions', '1']);
        ids.push(await waitForBanner(rt));
        await waitFor(`run ${kill} of the job to start`, () => c.starts().length === kill, 20_000);
        process.kill(rt.pid, 'SIGKILL');
        await exitWithin(rt, 5_000);
      }
      assert.deepEqual(
        c.starts().map((s) => [s.id, s.attempt]),
        [
          [id, 1],
          [id, 1],
        ],
        'the second run was not charged either',
      );
      const last = c.start(['--procs', '1', '--max-interruptions', '1', '--stop-when-empty']);
      const r = await exitWithin(last, 30_000);
      assert.equal(r.code, 0, r.stderr);
      assert.match(
        r.stderr,
        new RegExp(`Recovered 1 dead runtime\\(s\\) ${ids[1]}: 0 job\\(s\\) given back to run again, 1 failed after too many interruptions`),
      );
      const row = await c.app.store.admin.getJob({ id });
      assert.equal(row?.status, 'failed');
      assert.equal(row?.interruptions, 2);
      assert.equal(row?.owner, null);
      assert.match(
        row?.exception ?? '',
        /^Interrupted 2 times: the runtime running it died each time \(more than the 1 allowed\), so it is failed as a likely cause$/,
      );
      assert.equal(c.starts().length, 2, 'the poison job did not run a third time');
    });
  });
}

// Recovery by heartbeat, as for a peer on another host: a runtime that is alive (its pid
// exists) but silent for longer than --dead-after is dead to its peers. Here it is frozen with
// SIGSTOP, then resumed: its late result must not undo the peer's run.
for (const kind of ALL_STORE_KINDS) {
  describe(`stale heartbeat: ${kind}`, () => {
    const c = suite(kind);
    const FAST = ['--procs', '1', '--heartbeat', '0.5', '--dead-after', '2', '--sleep', '0.2'];

    test('a runtime silent past --dead-after loses its job to a live peer; when it wakes up, its late result is ignored', async () => {
      const [id] = (await c.traced(1, 4000)) as [number];
      const a = c.start(FAST);
      const aId = await waitForBanner(a);
      await waitFor('the job to start on the first runtime', () => c.starts().length === 1, 20_000);
      process.kill(a.pid, 'SIGSTOP');
      const stoppedAt = Date.now();
      const b = c.start(FAST);
      const bId = await waitForBanner(b);
      await waitFor('the job to start again on the live peer', () => c.starts().length === 2, 15_000);
      const takenOverMs = c.starts()[1]!.at - stoppedAt;
      assert.equal(c.starts()[1]!.runtimeId, bId);
      assert.equal(c.starts()[1]!.attempt, 1, 'not charged an attempt');
      assert.match(b.stderr(), new RegExp(`Recovered 1 dead runtime\\(s\\) ${aId}: 1 job\\(s\\) given back to run again`));
      assert.ok(takenOverMs < 2_000 + 3_000, `taken over ${takenOverMs} ms after the first runtime went silent`);

      process.kill(a.pid, 'SIGCONT');
      await waitFor("the first runtime's own run to finish", () => c.runs().some((r) => r.runtimeId === aId), 10_000);
      // Its result write, which must change nothing: the store refuses it (the claim is the
      // peer's now) and the runtime says it dropped it.
      const dropped = new RegExp(`Dropped 1 result\\(s\\) of jobs a peer took over \\(${id}\\)`);
      await waitFor("the first runtime's late result, dropped", () => dropped.test(a.stdout() + a.stderr()), 10_000);
      const row = await c.app.store.admin.getJob({ id });
      assert.equal(row?.status, 'processing', "the first runtime's late result did not complete the job the peer now runs");
      assert.equal(row?.owner, bId);

      await waitFor('the peer to finish the job', async () => (await c.app.store.admin.getJob({ id })) === null, 10_000);
      assert.deepEqual(
        c
          .runs()
          .map((r) => r.runtimeId)
          .sort(),
        [aId, bId].sort(),
        'the job ran twice: once on each runtime (at-least-once)',
      );
      for (const rt of [a, b]) process.kill(rt.pid, 'SIGTERM');
      for (const rt of [a, b]) assert.equal((await exitWithin(rt, 10_000)).code, 0);
      console.log(`  stale heartbeat (${kind}, --dead-after 2 --heartbeat 0.5): job started again on the live peer ${takenOverMs} ms after its runtime froze`);
    });

    if (kind === 'sqlite') {
      test('a job running longer than --dead-after on a live runtime is never taken away', async () => {
        await c.traced(1, 5000);
        const a = c.start(FAST);
        await waitFor('the job to start', () => c.starts().length === 1, 20_000);
        const b = c.start(FAST);
        await waitForBanner(b);
        await waitFor('the job to finish', () => c.runs().length === 1, 15_000);
        // Its result recorded: the row is gone, so no peer holds it or can take it any more (had
        // one taken it meanwhile, the result would be ignored and the row would stay).
        await waitFor('its result to be recorded', async () => (await c.app.count()) === 0, 10_000);
        assert.equal(c.starts().length, 1, 'it ran once, on the runtime that claimed it');
        assert.equal(await c.app.count(), 0);
        for (const rt of [a, b]) process.kill(rt.pid, 'SIGTERM');
        for (const rt of [a, b]) {
          const r = await exitWithin(rt, 10_000);
          assert.equal(r.code, 0);
          assert.doesNotMatch(r.stderr, /Recovered/);
        }
      });
    }
  });
}
