import type { JobStore } from '../stores/store.js';
import { formatMs, type Logger } from './logger.js';
import { Heartbeat } from './heartbeat.js';
import { HOST, newRuntimeId } from './host-identity.js';
import { Runtime, type RunSummary } from './runtime.js';
import { ThreadPool } from './thread-pool.js';
import { WakeListener } from '../wake/wake-listener.js';
import { notifyReady, notifyStopping, notifyWatchdog } from './systemd-notify.js';

// The master process: the claim loop, the thread pool, the heartbeat, the restart limits and
// the signals, put together. Exit codes (documented in the README):
export const EXIT_OK = 0;
/** A restart limit was reached (--memory, --max-jobs, --max-time): drained, supervisor should restart. */
export const EXIT_RESTART = 75;
/** Second SIGINT: stopped at once; claimed jobs are recovered by the next runtime. */
export const EXIT_FORCED = 130;

export interface MasterOptions {
  store: JobStore;
  log: Logger;
  version: string;
  /** Where the store URL came from, for the banner. */
  storeSource: string;
  jobsDir: string;
  threads: number;
  concurrency: number;
  queues: string[] | null;
  batch: number;
  pollMs: number;
  timeoutMs: number | null;
  graceMs: number;
  maxMemoryMb: number | null;
  stopWhenEmpty: boolean;
  keepCompleted: boolean;
  heartbeatMs: number;
  deadAfterMs: number;
  maxInterruptions: number;
  /** Master RSS limit, MB. */
  memoryLimitMb: number | null;
  maxJobs: number | null;
  maxTimeMs: number | null;
}

export async function runMaster(o: MasterOptions): Promise<number> {
  const id = newRuntimeId();
  const executor = new ThreadPool({ threads: o.threads, concurrency: o.concurrency, jobsDir: o.jobsDir, ...(o.maxMemoryMb ? { maxMemoryMb: o.maxMemoryMb } : {}) });
  const runtime = new Runtime({
    store: o.store,
    executor,
    log: o.log,
    owner: id,
    queues: o.queues,
    batch: o.batch,
    pollMs: o.pollMs,
    timeoutMs: o.timeoutMs,
    stopWhenEmpty: o.stopWhenEmpty,
    keepCompleted: o.keepCompleted,
    graceMs: o.graceMs,
    maxJobs: o.maxJobs,
    onReady: notifyReady, // systemd Type=notify: ready once a claim round has succeeded
  });
  let exitCode = EXIT_OK;
  const restart = (why: string) => {
    if (exitCode === EXIT_RESTART) return;
    exitCode = EXIT_RESTART;
    o.log.warn(`${why}: draining, then exiting with code ${EXIT_RESTART} so the supervisor starts a fresh process`);
    notifyStopping();
    runtime.stop();
  };
  const heartbeat = new Heartbeat({
    store: o.store,
    log: o.log,
    runtime: { id, host: HOST, pid: process.pid, queues: o.queues, threads: o.threads },
    intervalMs: o.heartbeatMs,
    deadAfterMs: o.deadAfterMs,
    maxInterruptions: o.maxInterruptions,
    stats: () => runtime.stats(),
    onTick: notifyWatchdog,
    onBeat: (rss) => {
      if (o.memoryLimitMb && rss > o.memoryLimitMb * 1024 * 1024) restart(`Master RSS ${Math.round(rss / 1048576)} MB is over --memory ${o.memoryLimitMb} MB`);
    },
  });
  await heartbeat.start();
  // Dispatches on this host end the poll sleep at once; from other hosts, the poll finds them.
  const wake = new WakeListener(o.store.displayUrl, () => runtime.wake());
  const wakeable = await wake.start();

  const timers: NodeJS.Timeout[] = [];
  if (o.maxTimeMs) timers.push(setTimeout(() => restart(`Ran for --max-time ${formatMs(o.maxTimeMs!)}`), o.maxTimeMs).unref());
  runtime.onMaxJobs = () => restart(`Claimed --max-jobs ${o.maxJobs} jobs`);

  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    signals++;
    if (signals === 1) {
      o.log.info(
        `${signal} received: stopping (claiming no more jobs; running jobs have ${formatMs(o.graceMs)} to finish; ` +
          `${signal === 'SIGINT' ? 'press Ctrl-C again' : 'send SIGINT'} to force)`,
      );
      notifyStopping();
      runtime.stop();
    } else if (signal === 'SIGINT') {
      o.log.warn(`Forced stop: ${runtime.inFlight} job(s) left claimed; a peer or the next runtime gives them back`);
      o.log.close();
      process.exit(EXIT_FORCED);
    }
  };
  const onHup = () => o.log.reopen();
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  process.on('SIGHUP', onHup);

  o.log.info(
    `jobs-runtime ${o.version} started: store ${o.store.displayUrl} (${o.storeSource}), queues ${o.queues?.join(' > ') ?? 'all'}, ` +
      `${o.threads} thread(s) × ${o.concurrency}, jobs from ${o.jobsDir}, poll ${formatMs(o.pollMs)}${wakeable ? ' + wake-up' : ''}, ` +
      `pid ${process.pid}, id ${id}`,
    { runtimeId: id },
  );
  let summary: RunSummary;
  try {
    summary = await runtime.run();
  } finally {
    timers.forEach(clearTimeout);
    wake.close();
    await executor.close();
    await heartbeat.stop();
    process.removeListener('SIGTERM', onSignal);
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGHUP', onHup);
  }
  o.log.info(
    `jobs-runtime stopped: ${summary.completed} completed, ${summary.failed} failed, ${summary.retried} retried, ${summary.released} given back` +
      (exitCode === EXIT_RESTART ? ` (exit ${EXIT_RESTART}: restart requested)` : ''),
    { ...summary, exitCode },
  );
  return exitCode;
}
