// Prometheus metrics on every store: a runtime with --metrics-port runs a known set of jobs; the
// endpoint is scraped over HTTP and parsed strictly; its counters and histogram counts equal
// what ran, its gauges what the store holds.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { killAll, startCli } from './helpers/cli.ts';
import { freePort } from './helpers/free-port.ts';
import { createOpsApp, exited, type OpsApp, waitForStart } from './helpers/ops.ts';
import { parsePrometheusText, sampleValue } from './helpers/prometheus.ts';
import { STORE_FACTORIES } from './helpers/stores.ts';
import { waitFor } from './helpers/wait.ts';
import { jobRow } from './helpers/job-rows.ts';

after(killAll);

const SCHEDULE_JOBS = fileURLToPath(new URL('./fixtures/schedule-jobs', import.meta.url));

for (const factory of STORE_FACTORIES) {
  describe(`metrics: ${factory.kind}`, () => {
    let app: OpsApp;
    before(async () => {
      app = await createOpsApp(factory, 'ops_metrics');
    });
    after(async () => {
      killAll();
      await app?.cleanup();
    });

    test('after a run of known size the scraped counters equal what ran', async () => {
      const port = await freePort();
      const runtime = app.start(['start', '--procs', '2', '--sleep', '0.2', '--quiet', '--metrics-port', String(port)]);
      await waitForStart(runtime);
      await waitFor('the metrics line', () => runtime.stdout().includes(`Prometheus metrics on http://127.0.0.1:${port}/metrics`), 5_000);

      // 30 successes; 4 jobs that fail both attempts (4 retried runs, 4 final failures);
      // 3 that fail for good at once (5 attempts allowed, a permanent error).
      await app.store.producer.enqueue({ jobs: Array.from({ length: 30 }, (_, n) => jobRow({ queue: 'm-ok', payload: JSON.stringify({ n }) })) });
      await app.store.producer.enqueue({ jobs: Array.from({ length: 4 }, () => jobRow({ queue: 'm-bad', handler: 'Throws', maxAttempts: 2 })) });
      await app.store.producer.enqueue({ jobs: Array.from({ length: 3 }, () => jobRow({ queue: 'm-bad', handler: 'FailsPermanently', maxAttempts: 5 })) });
      await app.store.admin.setQueuePaused({ queue: 'm-paused', paused: true });
      await app.store.producer.enqueue({ jobs: [jobRow({ queue: 'm-paused' }), jobRow({ queue: 'm-paused' })] });
      await waitFor(
        'every job to finish',
        async () => {
          const c = await app.store.admin.counts({ queues: ['m-ok', 'm-bad'] });
          return c.length === 1 && c[0]!.queue === 'm-bad' && c[0]!.failed === 7 && c[0]!.waiting + c[0]!.processing + c[0]!.delayed === 0;
        },
        30_000,
        50,
      );

      const res = await fetch(`http://127.0.0.1:${port}/metrics`);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8');
      const m = parsePrometheusText(await res.text());
      const v = (family: string, labels: Record<string, string> = {}, sample = family) => sampleValue(m, family, labels, sample);

      assert.equal(m.get('jobs_runtime_jobs_processed_total')!.type, 'counter');
      assert.equal(v('jobs_runtime_jobs_processed_total', { queue: 'm-ok', handler: 'Ok' }), 30);
      assert.equal(v('jobs_runtime_jobs_failed_total', { queue: 'm-bad', handler: 'Throws' }), 4);
      assert.equal(v('jobs_runtime_jobs_retried_total', { queue: 'm-bad', handler: 'Throws' }), 4);
      assert.equal(v('jobs_runtime_jobs_failed_total', { queue: 'm-bad', handler: 'FailsPermanently' }), 3);
      assert.equal(m.get('jobs_runtime_jobs_retried_total')!.samples.length, 1, 'FailsPermanently never retried');
      assert.equal(m.get('jobs_runtime_jobs_processed_total')!.samples.length, 1, 'only Ok succeeded');

      const duration = 'jobs_runtime_job_duration_seconds';
      assert.equal(m.get(duration)!.type, 'histogram');
      assert.equal(v(duration, { queue: 'm-ok', handler: 'Ok' }, `${duration}_count`), 30);
      assert.equal(v(duration, { queue: 'm-bad', handler: 'Throws' }, `${duration}_count`), 8);
      assert.equal(v(duration, { queue: 'm-bad', handler: 'FailsPermanently' }, `${duration}_count`), 3);
      assert.equal(v(duration, { queue: 'm-ok', handler: 'Ok', le: '+Inf' }, `${duration}_bucket`), 30);
      const latency = 'jobs_runtime_claim_latency_seconds';
      assert.equal(v(latency, { queue: 'm-ok' }, `${latency}_count`), 30);
      assert.equal(v(latency, { queue: 'm-bad' }, `${latency}_count`), 11);
      const okLatency = v(latency, { queue: 'm-ok' }, `${latency}_sum`) / 30;
      assert.ok(okLatency >= 0 && okLatency < 10, `mean claim latency ${okLatency} s`);
      assert.equal(
        m.get(latency)!.samples.some((s) => s.labels.queue === 'm-paused'),
        false,
        'no paused job started',
      );

      assert.equal(v('jobs_runtime_queue_jobs', { queue: 'm-bad', state: 'failed' }), 7);
      assert.equal(v('jobs_runtime_queue_jobs', { queue: 'm-paused', state: 'waiting' }), 2);
      assert.equal(v('jobs_runtime_queue_paused', { queue: 'm-paused' }), 1);
      assert.equal(v('jobs_runtime_store_up'), 1);
      assert.equal(v('jobs_runtime_threads'), 2);
      assert.equal(v('jobs_runtime_threads_busy'), 0);
      // 37 jobs, 4 of them claimed twice (their retry); the paused queue's 2 never.
      assert.equal(v('jobs_runtime_claimed_jobs_total'), 41);
      assert.ok(v('jobs_runtime_claims_total') >= 2);
      assert.ok(v('process_resident_memory_bytes') > 10_000_000);
      assert.ok(v('process_cpu_seconds_total') > 0);

      assert.equal((await fetch(`http://127.0.0.1:${port}/`)).status, 404);
      // The port is taken: a second runtime says so and does not start.
      const second = await app.cli(['start', '--procs', '1', '--metrics-port', String(port)], { timeoutMs: 20_000 });
      assert.equal(second.code, 1);
      assert.match(second.stderr, new RegExp(`Cannot serve metrics on 127\\.0\\.0\\.1:${port} \\(--metrics-port, --metrics-host\\): the port is in use`));

      runtime.child.kill('SIGTERM');
      const r = await exited(runtime, 20_000);
      assert.equal(r.code, 0, r.stderr);
      await assert.rejects(fetch(`http://127.0.0.1:${port}/metrics`), 'the server stops with the runtime');
    });

    test('schedule ticks: enqueued here, already claimed by the other runtime, misfired', async () => {
      // A dynamic schedule last changed an hour ago and never ticked since: a gap of missed ticks.
      // Its queue is paused: only its ticks count here, its jobs never run.
      await app.store.admin.setQueuePaused({ queue: 'm-missed', paused: true });
      await app.store.producer.saveSchedule({
        schedule: { key: 'm-missed', cron: '* * * * * *', tz: 'UTC', misfire: 'skip', job: jobRow({ queue: 'm-missed' }) },
      });
      await app.backdate.schedule('m-missed', 3_600_000);
      const log = join(app.dir, 'metrics-ticks.txt');
      const ports = [await freePort(), await freePort()];
      const runtimes = ports.map((port) =>
        startCli(
          ['start', '--procs', '1', '--sleep', '0.2', '--quiet', '--metrics-port', String(port), '--jobs-dir', SCHEDULE_JOBS, '--database-url', app.url],
          {
            cwd: app.dir,
            env: { TICK_LOG: log },
            timeoutMs: 90_000,
          },
        ),
      );
      await Promise.all(runtimes.map((r) => waitForStart(r)));
      // Scrapes less than its sampling interval apart leave prom-client's event-loop lag without a
      // sample: it prints "Nan" (Prometheus reads that as NaN; the strict parser wants "NaN").
      const scrape = async (port: number) => (await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()).replace(/ Nan$/gm, ' NaN');
      const ticks = async () => {
        const scraped = await Promise.all(ports.map(async (port) => parsePrometheusText(await scrape(port))));
        const sum = (schedule: string, outcome: string) =>
          scraped.reduce(
            (n, m) =>
              n + (m.get('jobs_runtime_schedule_ticks_total')?.samples.find((x) => x.labels.schedule === schedule && x.labels.outcome === outcome)?.value ?? 0),
            0,
          );
        return { scraped, sum };
      };
      // Both runtimes try each tick just after it falls: the one that comes second finds it claimed.
      const claimedElsewhere = async () => (await ticks()).sum('EverySecond', 'already_claimed');
      await waitFor('a tick already claimed by the other runtime', async () => (await claimedElsewhere()) >= 1 || null, 30_000, 250);
      const runs = () =>
        existsSync(log)
          ? readFileSync(log, 'utf8')
              .split('\n')
              .filter((l) => l.startsWith('EverySecond ')).length
          : 0;
      await waitFor('3 runs of EverySecond', () => runs() >= 3 || null, 20_000);
      const ranBefore = runs();
      const { scraped, sum } = await ticks();
      for (const m of scraped) assert.equal(m.get('jobs_runtime_schedule_ticks_total')?.type, 'counter');
      assert.ok(sum('EverySecond', 'enqueued') >= ranBefore, `every run was enqueued by one of them (${sum('EverySecond', 'enqueued')} ≥ ${ranBefore})`);
      // Each runtime tells a gap once; the second to read may find it closed by the first's tick.
      const missed = sum('m-missed', 'misfired');
      assert.ok(missed >= 1 && missed <= 2, `the hour-long gap of m-missed is one misfire per runtime that saw it (${missed})`);
      assert.equal(sum('EverySecond', 'misfired') + sum('CatchUpOnce', 'misfired'), 0, 'freshly declared: nothing missed');
      for (const r of runtimes) r.child.kill('SIGTERM');
      for (const r of runtimes) assert.equal((await exited(r, 20_000)).code, 0, r.stderr());
    });
  });
}
