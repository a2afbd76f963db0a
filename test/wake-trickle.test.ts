// A steady trickle of dispatches into a running runtime, as a web app makes them: each dispatch
// wakes the runtime, and the wake-ups that come close together share claims (the runtime's
// wake-up-gathering.ts; the dispatcher's wake-throttle.ts). Every job runs exactly once, and the runtime
// makes far fewer claims than there are jobs (read from its Prometheus metrics); before, each
// wake-up was a claim of a job or two.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { close, useStore } from '../src/dispatcher.ts';
import { Job } from '../src/job.ts';
import { killAll } from './helpers/cli.ts';
import { freePort } from './helpers/free-port.ts';
import { createOpsApp, exited, type OpsApp, waitForStart } from './helpers/ops.ts';
import { parsePrometheusText, sampleValue } from './helpers/prometheus.ts';
import { STORE_FACTORIES } from './helpers/stores.ts';
import { waitFor } from './helpers/wait.ts';

/** The fixture job of that name (test/fixtures/jobs/Records.ts) appends "<id> <attempt> <runtime> <payload>" to payload.file. */
class Records extends Job<{ file: string; n: number }> {
  async run() {}
}

const JOBS = 2_000;
const PER_SECOND = 500;

after(killAll);

for (const factory of STORE_FACTORIES) {
  describe(`a steady trickle of dispatches: ${factory.kind}`, () => {
    let app: OpsApp;
    before(async () => {
      app = await createOpsApp(factory, 'wake_trickle');
    });
    after(async () => {
      killAll();
      await close();
      await app?.cleanup();
    });

    test(`${JOBS} jobs at ${PER_SECOND}/s: each runs once, in far fewer claims than jobs`, async () => {
      const port = await freePort();
      const runtime = app.start(['start', '--procs', '2', '--quiet', '--metrics-port', String(port)]);
      await waitForStart(runtime);
      useStore(app.store);
      const file = join(app.dir, 'runs.txt');
      const lines = () => {
        try {
          return readFileSync(file, 'utf8').split('\n').filter(Boolean);
        } catch {
          return [];
        }
      };

      // On an absolute schedule, as requests arrive, not one after the other's reply.
      const start = performance.now();
      const dispatches: Promise<unknown>[] = [];
      for (let n = 0; n < JOBS; n++) {
        const wait = start + (n * 1000) / PER_SECOND - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        dispatches.push(new Records().dispatch({ file, n }));
      }
      const ids = (await Promise.all(dispatches)).map(Number);
      await waitFor(`${JOBS} runs recorded (have ${lines().length})`, () => lines().length >= JOBS, 30_000, 50);

      const runs = lines().map((l) => {
        const [id, attempt, , payload] = l.split(' ');
        return { id: Number(id), attempt: Number(attempt), n: (JSON.parse(payload!) as { n: number }).n };
      });
      assert.equal(runs.length, JOBS, 'no job ran twice');
      assert.equal(new Set(runs.map((r) => r.id)).size, JOBS);
      assert.deepEqual(
        runs.map((r) => r.id).sort((a, b) => a - b),
        ids.sort((a, b) => a - b),
      );
      assert.deepEqual(
        runs.map((r) => r.n).sort((a, b) => a - b),
        Array.from({ length: JOBS }, (_, n) => n),
      );
      assert.ok(
        runs.every((r) => r.attempt === 1),
        'every run a first attempt',
      );

      const m = parsePrometheusText(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text());
      const claims = sampleValue(m, 'jobs_runtime_claims_total', {}, 'jobs_runtime_claims_total');
      assert.equal(sampleValue(m, 'jobs_runtime_claimed_jobs_total', {}, 'jobs_runtime_claimed_jobs_total'), JOBS);
      // About 40 claims a second while wake-ups keep coming (wake-up-gathering.ts), plus the polls; one per wake-up before.
      assert.ok(claims <= JOBS / 5, `${claims} claims for ${JOBS} jobs`);
      console.log(`# ${factory.kind}: ${JOBS} jobs in ${claims} claims (${(JOBS / claims).toFixed(1)} jobs per claim)`);

      runtime.child.kill('SIGTERM');
      const r = await exited(runtime, 20_000);
      assert.equal(r.code, 0, r.stderr);
    });
  });
}
