// Prometheus metrics on every store: a runtime with --metrics-port runs a known set of jobs; the
// endpoint is scraped over HTTP and parsed strictly; its counters and histogram counts equal
// what ran, its gauges what the store holds.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { killAll } from './helpers/cli.ts';
import { freePort } from './helpers/free-port.ts';
import { createOpsApp, exited, type OpsApp, waitForStart } from './helpers/ops.ts';
import { parsePrometheusText, sampleValue } from './helpers/prometheus.ts';
import { STORE_FACTORIES } from './helpers/stores.ts';
import { waitFor } from './helpers/wait.ts';
import { jobRow } from './helpers/job-rows.ts';

after(killAll);

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
  });
}
