import { createServer, type Server } from 'node:http';
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { InvalidInputError } from '../errors.js';
import type { Admin, ClaimedJob, JobResult } from '../stores/store.js';
import { Buckets, BucketsHistogram } from './metrics-histogram.js';
import type { TickCount } from './scheduler.js';

// Prometheus metrics of one runtime, served as text on /metrics (`start --metrics-port`).
// The per-job part is plain arithmetic on objects made once per queue and handler: the runtime
// calls onJobFinished for every run, and prom-client's own observe() would cost an object and a
// label hash per call. The totals become prom-client metrics only when Prometheus scrapes.
//
//   jobs_runtime_jobs_processed_total{queue,handler}   runs that succeeded
//   jobs_runtime_jobs_failed_total{queue,handler}      runs that failed for good (no attempt left)
//   jobs_runtime_jobs_retried_total{queue,handler}     runs that failed with a retry scheduled
//   jobs_runtime_claims_total                          claim round trips that came back (empty ones too)
//   jobs_runtime_claimed_jobs_total                    jobs those claims took: / claims_total = jobs per claim
//   jobs_runtime_schedule_ticks_total{schedule,outcome} ticks this runtime tried: enqueued | already_claimed | misfired (scheduler.ts)
//   jobs_runtime_job_duration_seconds{queue,handler}   histogram: one run, in its thread
//   jobs_runtime_claim_latency_seconds{queue}          histogram: due → started
//   jobs_runtime_queue_jobs{queue,state}               waiting|delayed|processing|failed, store-wide, read at scrape
//   jobs_runtime_queue_paused{queue}                   1 per paused queue
//   jobs_runtime_store_up                              1 when the scrape could read the store
//   jobs_runtime_threads_busy / jobs_runtime_threads   job slots in use / in all
//   process_resident_memory_bytes, process_cpu_seconds_total, …   the master process (prom-client defaults)

const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];
const LATENCY_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800];

interface HandlerSeries {
  labels: { queue: string; handler: string };
  processed: number;
  failed: number;
  retried: number;
  duration: Buckets;
}

interface QueueSeries {
  labels: { queue: string };
  latency: Buckets;
  handlers: Map<string, HandlerSeries>;
}

export interface MetricsOptions {
  /** The store-wide queue gauges are read at scrape. */
  admin: Pick<Admin, 'counts' | 'listPausedQueues'>;
  host: string;
  port: number;
}

export class Metrics {
  readonly registry = new Registry();
  private readonly queues = new Map<string, QueueSeries>();
  private server: Server | null = null;
  private readonly storeUp: Gauge;
  private readonly queueJobs: Gauge;
  private readonly queuePaused: Gauge;
  /** Claims that came back, and the jobs they took (read at scrape, like the per-job counters). */
  private claims = 0;
  private claimedJobs = 0;
  /** Schedule ticks by `schedule\noutcome`. */
  private readonly ticks = new Map<string, number>();
  /** Job slots of this runtime (threads × concurrency) and how many are busy now: see watchSlots. */
  private slots: () => { busy: number; total: number } = () => ({ busy: 0, total: 0 });

  constructor(private readonly o: MetricsOptions) {
    // Queue gauges are read from the store once per scrape, before the text is rendered.
    const r = this.registry;
    const handlerSeries = () => [...this.queues.values()].flatMap((q) => [...q.handlers.values()]);
    const counter = (name: string, help: string, pick: (s: HandlerSeries) => number) =>
      new Counter({
        name,
        help,
        labelNames: ['queue', 'handler'],
        registers: [r],
        collect() {
          this.reset();
          for (const s of handlerSeries()) if (pick(s) > 0) this.inc(s.labels, pick(s));
        },
      });
    counter('jobs_runtime_jobs_processed_total', 'Job runs that succeeded, by queue and handler', (s) => s.processed);
    counter('jobs_runtime_jobs_failed_total', 'Job runs that failed for good (no attempt left, or a permanent error)', (s) => s.failed);
    counter('jobs_runtime_jobs_retried_total', 'Job runs that failed with a retry scheduled', (s) => s.retried);
    const claims: Counter = new Counter({
      name: 'jobs_runtime_claims_total',
      help: 'Claim round trips to the store that came back, empty ones included',
      registers: [r],
      collect: () => {
        claims.reset();
        claims.inc(this.claims);
      },
    });
    const claimedJobs: Counter = new Counter({
      name: 'jobs_runtime_claimed_jobs_total',
      help: 'Jobs taken by those claims',
      registers: [r],
      collect: () => {
        claimedJobs.reset();
        claimedJobs.inc(this.claimedJobs);
      },
    });
    const ticks: Counter = new Counter({
      name: 'jobs_runtime_schedule_ticks_total',
      help: 'Schedule ticks this runtime tried, by outcome: enqueued here, already_claimed (by another runtime), misfired (a gap of missed ticks)',
      labelNames: ['schedule', 'outcome'],
      registers: [r],
      collect: () => {
        ticks.reset();
        for (const [k, n] of this.ticks) {
          const [schedule, outcome] = k.split('\n');
          ticks.inc({ schedule: schedule!, outcome: outcome! }, n);
        }
      },
    });
    new BucketsHistogram(
      'jobs_runtime_job_duration_seconds',
      'Time one job run took in its worker thread',
      ['queue', 'handler'],
      DURATION_BUCKETS,
      () => handlerSeries().map((s) => ({ labels: s.labels, buckets: s.duration })),
      r,
    );
    new BucketsHistogram(
      'jobs_runtime_claim_latency_seconds',
      'Time from when a job was due to when it started',
      ['queue'],
      LATENCY_BUCKETS,
      () => [...this.queues.values()].map((q) => ({ labels: q.labels, buckets: q.latency })),
      r,
    );

    this.storeUp = new Gauge({ name: 'jobs_runtime_store_up', help: '1 when the last scrape could read the store, else 0', registers: [r] });
    this.queueJobs = new Gauge({
      name: 'jobs_runtime_queue_jobs',
      help: 'Jobs per queue and state (waiting, delayed, processing, failed) in the whole store, read at scrape',
      labelNames: ['queue', 'state'],
      registers: [r],
    });
    this.queuePaused = new Gauge({ name: 'jobs_runtime_queue_paused', help: '1 for each paused queue', labelNames: ['queue'], registers: [r] });
    const busy: Gauge = new Gauge({
      name: 'jobs_runtime_threads_busy',
      help: 'Job slots running a job now',
      registers: [r],
      collect: () => busy.set(this.slots().busy),
    });
    const total: Gauge = new Gauge({
      name: 'jobs_runtime_threads',
      help: 'Job slots of this runtime (threads × concurrency)',
      registers: [r],
      collect: () => total.set(this.slots().total),
    });
    collectDefaultMetrics({ register: r });
  }

  /** Reads the store's figures for the queue gauges; on failure the last ones stay and store_up says 0. */
  private async refreshStoreGauges(): Promise<void> {
    try {
      const [counts, paused] = await Promise.all([this.o.admin.counts({}), this.o.admin.listPausedQueues({})]);
      this.queueJobs.reset();
      for (const c of counts) {
        for (const state of ['waiting', 'delayed', 'processing', 'failed'] as const) this.queueJobs.set({ queue: c.queue, state }, c[state]);
      }
      this.queuePaused.reset();
      for (const p of paused) this.queuePaused.set({ queue: p.queue }, 1);
      this.storeUp.set(1);
    } catch {
      this.storeUp.set(0);
    }
  }

  /** Where the thread gauges read from, once the runtime exists. */
  watchSlots(slots: () => { busy: number; total: number }): void {
    this.slots = slots;
  }

  /** A claim came back with `count` jobs. */
  readonly onClaimed = (count: number): void => {
    this.claims++;
    this.claimedJobs += count;
  };

  /** The scheduler's observer (Scheduler onTick). */
  readonly onScheduleTick = (schedule: string, outcome: TickCount): void => {
    const k = `${schedule}\n${outcome}`;
    this.ticks.set(k, (this.ticks.get(k) ?? 0) + 1);
  };

  /** The runtime's per-run observer: counts and bucket increments only. */
  readonly onJobFinished = (job: ClaimedJob, outcome: JobResult['outcome'], durationMs: number): void => {
    let q = this.queues.get(job.queue);
    if (!q) {
      q = { labels: { queue: job.queue }, latency: new Buckets(LATENCY_BUCKETS), handlers: new Map() };
      this.queues.set(job.queue, q);
    }
    let s = q.handlers.get(job.handler);
    if (!s) {
      s = { labels: { queue: job.queue, handler: job.handler }, processed: 0, failed: 0, retried: 0, duration: new Buckets(DURATION_BUCKETS) };
      q.handlers.set(job.handler, s);
    }
    if (outcome === 'completed') s.processed++;
    else if (outcome === 'failed') s.failed++;
    else s.retried++;
    s.duration.observe(durationMs / 1000);
    // Started = finished − duration, on this host's clock; due = the store's clock. Clamped: a
    // store clock a little ahead must not make a negative latency.
    q.latency.observe(Math.max(0, Date.now() - durationMs - job.scheduledAtMs) / 1000);
  };

  /** Serves /metrics; rejects when the port cannot be bound. */
  async start(): Promise<void> {
    const server = createServer((req, res) => {
      if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('Not found: metrics are on GET /metrics\n');
        return;
      }
      this.refreshStoreGauges()
        .then(() => this.registry.metrics())
        .then(
          (text) => res.writeHead(200, { 'content-type': this.registry.contentType }).end(text),
          (e: Error) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`${e.message}\n`),
        );
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.o.port, this.o.host, () => {
        server.off('error', reject);
        resolve();
      });
    }).catch((e: NodeJS.ErrnoException) => {
      throw new InvalidInputError(
        `Cannot serve metrics on ${this.o.host}:${this.o.port} (--metrics-port, --metrics-host): ${e.code === 'EADDRINUSE' ? 'the port is in use' : e.message}`,
      );
    });
    server.unref();
    this.server = server;
  }

  /** The address served, for the banner. */
  get url(): string {
    const host = this.o.host.includes(':') ? `[${this.o.host}]` : this.o.host;
    return `http://${host}:${this.o.port}/metrics`;
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  }
}
