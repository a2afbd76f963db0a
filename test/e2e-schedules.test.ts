// Recurring schedules with real runtimes (issue 16), on every store. Each job appends the tick it
// ran for (this.context.scheduledAt) to $TICK_LOG, so exactly-once is read from what ran. Where
// the scenario is time passing with no runtime, the test waits for the store's clock to pass it.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { killAll, startCli } from './helpers/cli.ts';
import { ALL_STORE_KINDS, createApp, type E2eApp } from './helpers/e2e.ts';
import { stopAll, waitForBanner } from './helpers/reliability.ts';
import { waitFor } from './helpers/wait.ts';

after(() => killAll());

const execFileP = promisify(execFile);
const SCHEDULE_JOBS = fileURLToPath(new URL('./fixtures/schedule-jobs', import.meta.url));
const DYN_JOBS = fileURLToPath(new URL('./fixtures/schedule-dyn-jobs', import.meta.url));
const DYNAMIC = fileURLToPath(new URL('./fixtures/schedule-app/dynamic.ts', import.meta.url));

interface Run {
  tick: number;
  id: number;
  runtimeId: string;
}

/** Runs logged by `handler` (first word of each line). */
function readRuns(file: string, handler: string): Run[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.startsWith(`${handler} `))
    .map((l) => {
      const [, tick, id, runtimeId] = l.split(' ');
      return { tick: Number(tick), id: Number(id), runtimeId: runtimeId! };
    });
}

/** The store's clock, as runtimes read it. */
async function storeNow(app: E2eApp): Promise<number> {
  return (await app.store.registry.activeSchedules()).nowMs;
}

/** Ticks of `handler` after `since`, in order. */
const ticksAfter = (file: string, handler: string, since: number) =>
  readRuns(file, handler)
    .map((r) => r.tick)
    .filter((t) => t > since)
    .sort((a, b) => a - b);

for (const kind of ALL_STORE_KINDS) {
  describe(`recurring schedules: ${kind}`, () => {
    let app: E2eApp;
    let log: string;
    const start = (jobsDir = SCHEDULE_JOBS, env: Record<string, string> = {}) =>
      startCli(['start', '--procs', '2', '--sleep', '0.2', '--heartbeat', '0.5', '--dead-after', '2', '--jobs-dir', jobsDir, '--database-url', app.url], {
        cwd: app.dir,
        env: { TICK_LOG: log, ...env },
        timeoutMs: 120_000,
      });
    before(async () => {
      app = await createApp(kind, 'schedules');
      log = join(app.dir, 'ticks.txt');
    });
    after(async () => {
      killAll();
      await app?.close();
    });

    // The store kind is in each title so that --test-name-pattern can pick one store (Node 20
    // matches test titles, not the describe's).
    test(`${kind}: 3 runtimes, every second for ~20 s, one SIGKILLed midway: every tick ran exactly once`, async (t) => {
      // Each run lasts 800 ms after it logs its tick: the SIGKILL below can hit a run in flight.
      const slow = { TICK_RUN_MS: '800' };
      const runtimes = [start(SCHEDULE_JOBS, slow), start(SCHEDULE_JOBS, slow), start(SCHEDULE_JOBS, slow)];
      await Promise.all(runtimes.map((r) => waitForBanner(r)));
      // The span: 20 ticks from the first one after all three are up.
      const from = Math.ceil(((await storeNow(app)) + 1) / 1000) * 1000;
      const to = from + 19_000;
      const victim = `:${runtimes[1]!.pid}:`;
      // From tick 10 on, kill runtime 2 while a run of its own is in flight (it logged a tick of the
      // last 500 ms), or at tick 15 if it happens to run none: either way mid-span.
      await waitFor(
        'tick 10 of the span, runtime 2 running one',
        () =>
          readRuns(log, 'EverySecond').some((r) => r.tick >= from + 14_000) ||
          readRuns(log, 'EverySecond').some((r) => r.tick >= from + 9_000 && r.runtimeId.includes(victim) && r.tick >= Date.now() - 500) ||
          null,
        40_000,
      );
      process.kill(runtimes[1]!.pid, 'SIGKILL');
      const killedAt = Date.now();
      await waitFor('the last tick of the span to run', () => readRuns(log, 'EverySecond').some((r) => r.tick >= to) || null, 30_000);
      await stopAll(runtimes);
      const runs = readRuns(log, 'EverySecond').filter((r) => r.tick >= from && r.tick <= to);
      const killedId = runs.find((r) => r.runtimeId.includes(victim))?.runtimeId;
      const inFlight = runs.filter((r) => r.runtimeId === killedId && r.tick >= killedAt - 1_000).length;
      // A tick enqueued twice would show as two jobs for one tick. A job the killed runtime was
      // running (or had run, its result not yet written) is run again once it is recovered: the
      // runtime runs jobs at least once; that is the same job, not a second enqueue.
      const jobsByTick = new Map<number, Set<number>>();
      for (const r of runs) jobsByTick.set(r.tick, (jobsByTick.get(r.tick) ?? new Set()).add(r.id));
      const duplicates = [...jobsByTick.values()].filter((ids) => ids.size > 1).length;
      const seen = new Set<number>();
      const reruns = runs.filter((r) => seen.has(r.id) || !seen.add(r.id));
      let missed = 0;
      for (let t = from; t <= to; t += 1000) if (!jobsByTick.has(t)) missed++;
      const ran = new Set(runs.map((r) => r.runtimeId)).size;
      t.diagnostic(
        `${kind}: ticks 20, runs ${runs.length}, duplicates ${duplicates}, missed ${missed}, re-runs after the SIGKILL ${reruns.length} (runs in flight in the killed runtime ${inFlight}), runtimes that ran ticks ${ran}`,
      );
      assert.equal(duplicates, 0, `no tick enqueued twice: ${JSON.stringify(runs)}`);
      assert.equal(missed, 0, 'no tick was missed');
      for (const r of reruns) {
        const firsts = runs.filter((x) => x.id === r.id);
        assert.ok(
          firsts.some((x) => x.runtimeId === killedId),
          `job ${r.id} ran again only because its first runtime was killed: ${JSON.stringify(firsts)}`,
        );
      }
      assert.equal(new Set(runs.map((r) => r.id)).size, 20, 'one job per tick');
    });

    test(`${kind}: no runtime for 10 ticks, then one starts: 'skip' runs none of them, 'once' runs one`, async () => {
      const first = start();
      await waitForBanner(first);
      // Runs of this runtime (the log also holds the previous test's).
      const ranHere = (h: string) => readRuns(log, h).some((r) => r.runtimeId.includes(`:${first.pid}:`));
      await waitFor('both schedules to tick', () => (ranHere('EverySecond') && ranHere('CatchUpOnce')) || null, 20_000);
      await stopAll([first]);
      // The last tick enqueued, from the store: a tick enqueued just before the stop whose job had
      // not started is run by the next runtime, and is no catch-up.
      const lastTick = async (key: string) => (await app.store.admin.listSchedules({})).find((s) => s.key === key)!.lastTickAtMs!;
      const stopped = { skip: await lastTick('EverySecond'), once: await lastTick('CatchUpOnce') };
      await waitFor('10 ticks with no runtime', async () => (await storeNow(app)) > Math.max(stopped.skip, stopped.once) + 10_500 || null, 20_000, 100);
      const second = start();
      await waitForBanner(second);
      await waitFor(
        '4 runs of each after the gap',
        () => (ticksAfter(log, 'EverySecond', stopped.skip).length >= 4 && ticksAfter(log, 'CatchUpOnce', stopped.once).length >= 4) || null,
        20_000,
      );
      await stopAll([second]);
      const skip = ticksAfter(log, 'EverySecond', stopped.skip);
      assert.ok(skip[0]! - stopped.skip > 10_000, `skip: the first run after the gap is for a tick after it (${skip[0]! - stopped.skip} ms)`);
      for (let i = 1; i < skip.length; i++) assert.equal(skip[i]! - skip[i - 1]!, 1000, 'skip: on-time ticks only, one a second');
      // Both every second, read in the same polls: the same on-time ticks, 'once' with one more before them.
      const once = ticksAfter(log, 'CatchUpOnce', stopped.once);
      assert.equal(once.filter((t) => t < skip[0]!).length, 1, `once: one catch-up run (ticks ${once.join(', ')}; skip's first ${skip[0]})`);
      assert.equal(once[1], skip[0], 'once: then the on-time ticks, as skip runs them');
    });

    test(`${kind}: a dynamic schedule made by one process runs on a runtime started later, and not after its removal`, async () => {
      const appProcess = (action: string) => execFileP(process.execPath, ['--import', 'tsx', DYNAMIC, app.url, action, 'dyn'], { timeout: 30_000 });
      await appProcess('add');
      const runtime = start(DYN_JOBS);
      await waitForBanner(runtime);
      await waitFor('3 runs of the dynamic schedule', () => readRuns(log, 'Reported:dyn').length >= 3 || null, 20_000);
      const removed = await appProcess('remove');
      assert.deepEqual(JSON.parse(removed.stdout), { removed: true }, removed.stderr);
      const removedAt = await storeNow(app);
      // The runtime runs on for 3 more ticks: none of them runs.
      await waitFor('3 more ticks', async () => (await storeNow(app)) > removedAt + 3_000 || null, 10_000, 100);
      await stopAll([runtime]);
      assert.deepEqual(
        readRuns(log, 'Reported:dyn').filter((r) => r.tick > removedAt),
        [],
        'no run after the removal',
      );
    });
  });
}
