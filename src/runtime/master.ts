import type { JobStore, RuntimeInfo } from '../stores/store.js';
import { formatMs, type Logger } from './logger.js';
import { Heartbeat } from './heartbeat.js';
import { HOST, newRuntimeId } from './host-identity.js';
import { Runtime, type RunSummary } from './runtime.js';
import { ThreadPool } from './thread-pool.js';
import { RuntimeWake } from '../wake/runtime-wake.js';
import type { WakeBind } from '../wake/wake-address.js';
import { notifyReady, notifyStopping, startWatchdog } from './systemd-notify.js';
import { Metrics } from './metrics.js';
import { Pruner } from './pruner.js';
import { orphanSweep } from './orphan-sweep.js';
import { formatAge } from '../values/age.js';
import { afterLong } from './long-timers.js';
import { startedEvent, stoppedEvent } from './run-events.js';
import { compileTypeScriptJobs } from '../typescript/compile-jobs.js';
import { discoverStaticSchedules, type StaticSchedules } from '../schedules/discover.js';
import { Scheduler } from './scheduler.js';

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
  /** PHP classes taken over from Lightpack: stored handler → Node handler (values/lightpack.ts). */
  takeOver?: Map<string, string>;
  /** Queues Lightpack's PHP workers run, for the banner (the store leaves them alone). */
  phpQueues?: string[];
  batch: number;
  pollMs: number;
  timeoutMs: number | null;
  graceMs: number;
  maxMemoryMb: number | null;
  stopWhenEmpty: boolean;
  keepCompleted: boolean;
  /** Keep job outcomes (waitFor, jobEvents) this long; 0: not at all, and record() writes nothing more. */
  keepOutcomesMs?: number;
  heartbeatMs: number;
  deadAfterMs: number;
  maxInterruptions: number;
  /** Master RSS limit, MB. */
  memoryLimitMb: number | null;
  maxJobs: number | null;
  maxTimeMs: number | null;
  /** With keepCompleted: delete completed rows this old (null: keep them for ever). */
  completedRetentionMs: number | null;
  /** Delete failed rows this old (null: keep them for ever). */
  failedRetentionMs: number | null;
  /** How often the pruner runs (in one runtime at a time). */
  pruneEveryMs: number;
  /** Serve Prometheus metrics here (null: no metrics). */
  metrics: { host: string; port: number } | null;
  /** --wake-address: where dispatchers on other hosts send wake-ups (null: the default; 'local': this host only). */
  wakeAddress: WakeBind | 'local' | null;
}

export async function runMaster(o: MasterOptions): Promise<number> {
  // systemd's watchdog counts from the start, so the pings begin before anything slow.
  const stopWatchdog = startWatchdog();
  const id = newRuntimeId();
  const metrics = o.metrics ? new Metrics({ admin: o.store.admin, ...o.metrics }) : null;
  await metrics?.start(); // before the threads start: a port in use ends the start cleanly
  // Once here, not in every thread; null for a .js app, or when it cannot (threads then use tsx).
  const compiled = await compileTypeScriptJobs(o.jobsDir, o.log);
  // The job classes' static schedules, read in a child process (no job code runs here); a bad
  // one ends the start, naming class, field and value, before anything is registered.
  let found: StaticSchedules;
  try {
    found = await discoverStaticSchedules(o.jobsDir, compiled?.manifest);
  } catch (e) {
    compiled?.close();
    await metrics?.close();
    stopWatchdog();
    throw e;
  }
  for (const w of found.warnings) o.log.warn(w);
  const keepOutcomes = (o.keepOutcomesMs ?? 0) > 0;
  const executor = new ThreadPool({
    threads: o.threads,
    concurrency: o.concurrency,
    jobsDir: o.jobsDir,
    ...(o.maxMemoryMb ? { maxMemoryMb: o.maxMemoryMb } : {}),
    ...(compiled ? { compiledJobs: compiled.manifest } : {}),
    ...(keepOutcomes ? { keepResults: true } : {}),
  });
  const runtime = new Runtime({
    queue: o.store.queue,
    storeUrl: o.store.displayUrl,
    executor,
    log: o.log,
    owner: id,
    queues: o.queues,
    takeOver: o.takeOver ?? new Map(),
    batch: o.batch,
    pollMs: o.pollMs,
    timeoutMs: o.timeoutMs,
    stopWhenEmpty: o.stopWhenEmpty,
    keepCompleted: o.keepCompleted,
    keepOutcomes,
    graceMs: o.graceMs,
    maxJobs: o.maxJobs,
    events: {
      ready: notifyReady, // systemd Type=notify: ready once a claim round has succeeded
      ...(metrics ? { jobFinished: metrics.onJobFinished } : {}),
      maxJobsReached: () => restart(`Claimed --max-jobs ${o.maxJobs} jobs`),
      claimed: (count) => {
        metrics?.onClaimed(count);
        if (count > 0) wake.foundJobs(); // claims start once `wake` is set up below
      },
    },
  });
  // A store that came back as another server (Redis: a new run_id) may have lost jobs: say which this runtime held.
  o.store.onServerReplaced?.((message) => o.log.warn(`${message}. ${describeHeld(runtime.heldJobs())}`, { event: 'store_replaced' }));
  metrics?.watchSlots(() => ({ busy: runtime.stats().busyThreads, total: executor.slots }));
  const pruner = new Pruner({
    registry: o.store.registry,
    admin: o.store.admin,
    log: o.log,
    owner: id,
    completedRetentionMs: o.keepCompleted ? o.completedRetentionMs : null,
    failedRetentionMs: o.failedRetentionMs,
    outcomesRetentionMs: keepOutcomes && Number.isFinite(o.keepOutcomesMs) ? o.keepOutcomesMs! : null,
    everyMs: o.pruneEveryMs,
  });
  // Once per heartbeat period across all runtimes, by the lease holder.
  const sweep = orphanSweep({
    registry: o.store.registry,
    log: o.log,
    owner: id,
    deadAfterMs: o.deadAfterMs,
    maxInterruptions: o.maxInterruptions,
    keepOutcomes,
    everyMs: o.heartbeatMs,
  });
  let exitCode = EXIT_OK;
  const restart = (why: string) => {
    if (exitCode === EXIT_RESTART) return;
    exitCode = EXIT_RESTART;
    o.log.warn(`${why}: draining, then exiting with code ${EXIT_RESTART} so the supervisor starts a fresh process`);
    notifyStopping();
    runtime.stop();
  };
  // Its wakeAddress is set once the wake-up socket is bound, before the first registration.
  const runtimeInfo: RuntimeInfo = { id, host: HOST, pid: process.pid, queues: o.queues, threads: o.threads, slots: executor.slots };
  const heartbeat = new Heartbeat({
    registry: o.store.registry,
    log: o.log,
    runtime: runtimeInfo,
    intervalMs: o.heartbeatMs,
    deadAfterMs: o.deadAfterMs,
    maxInterruptions: o.maxInterruptions,
    keepOutcomes,
    stats: () => runtime.stats(),
    onBeat: (rss) => {
      if (o.memoryLimitMb && rss > o.memoryLimitMb * 1024 * 1024) restart(`Master RSS ${Math.round(rss / 1048576)} MB is over --memory ${o.memoryLimitMb} MB`);
    },
    onFenced: (fenced) => runtime.setFenced(fenced),
    onReregistered: () => scheduler.redeclare(),
  });
  // A tick's job is due at once: claim it now rather than at the next poll.
  const scheduler = new Scheduler({
    registry: o.store.registry,
    log: o.log,
    runtimeId: id,
    schedules: found.schedules,
    onEnqueued: () => runtime.wake(),
    ...(metrics ? { onTick: metrics.onScheduleTick } : {}),
  });
  // Signals are handled from here on: a stop asked for while the runtime registers itself ends
  // the run before its first claim, cleanly, instead of killing the process half-registered.
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
  const removeSignalHandlers = () => {
    process.removeListener('SIGTERM', onSignal);
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGHUP', onHup);
  };
  // Dispatches end the poll sleep at once: on this host by datagram, from other hosts through
  // the store (Redis) or by datagram to the address registered (MySQL).
  const wake = new RuntimeWake(o.store, o.wakeAddress, () => runtime.wokenUp(), o.store.capabilities.claimByIdsSooner ? (id) => runtime.woken(id) : undefined);
  let cancelMaxTime: (() => void) | null = null;
  /** Everything started here, stopped: after the run, or when the start itself fails. */
  const stopAll = async () => {
    cancelMaxTime?.();
    await wake.close();
    await scheduler.stop(); // before the heartbeat's deregistration, which drops its declarations
    await executor.close();
    compiled?.close();
    await heartbeat.stop();
    await pruner.stop();
    await sweep.stop();
    await metrics?.close();
    removeSignalHandlers();
    stopWatchdog(); // last: the drain above may take up to --grace, under the watchdog
  };
  let wakeText = '';
  try {
    const paths = await wake.start();
    for (const w of paths.warnings) o.log.warn(w);
    if (paths.local || paths.remote.length > 0) wakeText = ` + wake-up${paths.remote.length ? ` (${paths.remote.join(', ')})` : ''}`;
    runtimeInfo.wakeAddress = wake.registeredAddress;
    await heartbeat.start();
    await scheduler.start();
    pruner.start();
    sweep.start();
  } catch (e) {
    // The store went away while registering: nothing was claimed; leave nothing running.
    await stopAll();
    throw e;
  }

  if (o.maxTimeMs) cancelMaxTime = afterLong(o.maxTimeMs, () => restart(`Ran for --max-time ${formatMs(o.maxTimeMs!)}`));

  o.log.info(
    `jobs-runtime ${o.version} started: store ${o.store.displayUrl} (${o.storeSource}), queues ${o.queues?.join(' > ') ?? (o.phpQueues?.length ? `all but Lightpack's ${o.phpQueues.join(', ')}` : 'all')}, ` +
      `${o.threads} thread(s) × ${o.concurrency}, jobs from ${o.jobsDir}, poll ${formatMs(o.pollMs)}${wakeText}, ` +
      `pid ${process.pid}, id ${id}`,
    startedEvent(o, { wake: wakeText !== '', wakeAddress: wake.registeredAddress, pid: process.pid, runtimeId: id }),
  );
  if (found.schedules.length > 0) {
    o.log.info(
      `Declared ${found.schedules.length} static schedule(s): ${found.schedules.map((d) => `${d.key} (${d.cron}${d.tz === 'UTC' ? '' : ` ${d.tz}`})`).join(', ')}`,
    );
  }
  if (metrics) o.log.info(`Prometheus metrics on ${metrics.url}`);
  if (o.keepCompleted || o.failedRetentionMs !== null) {
    const keep = (ms: number | null) => (ms === null ? 'for ever' : `for ${formatAge(ms)}`);
    o.log.info(
      `Keeping ${o.keepCompleted ? `completed jobs ${keep(o.completedRetentionMs)}` : 'no completed jobs'} and failed jobs ${keep(o.failedRetentionMs)}` +
        ` (one runtime at a time prunes, every ${formatMs(o.pruneEveryMs)})`,
    );
  }
  let summary: RunSummary;
  try {
    summary = await runtime.run();
  } finally {
    await stopAll();
  }
  o.log.info(
    `jobs-runtime stopped: ${summary.completed} completed, ${summary.failed} failed, ${summary.retried} retried, ${summary.released} given back` +
      (summary.dropped > 0 ? `, ${summary.dropped} result(s) dropped (jobs a peer took over)` : '') +
      (exitCode === EXIT_RESTART ? ` (exit ${EXIT_RESTART}: restart requested)` : ''),
    stoppedEvent(summary, exitCode),
  );
  return exitCode;
}

/** "This runtime held …", naming ids (the first 20 of each kind), for a store that may have lost them. */
function describeHeld(h: { running: number[]; waiting: number[]; unwritten: number[] }): string {
  const ids = (list: number[]) => `id${list.length > 1 ? 's' : ''} ${list.slice(0, 20).join(', ')}${list.length > 20 ? `, … ${list.length - 20} more` : ''}`;
  const parts = [
    h.running.length ? `${h.running.length} running (${ids(h.running)})` : '',
    h.waiting.length ? `${h.waiting.length} claimed, not started (${ids(h.waiting)})` : '',
    h.unwritten.length ? `${h.unwritten.length} finished, result not written yet (${ids(h.unwritten)})` : '',
  ].filter(Boolean);
  return parts.length
    ? `This runtime held ${parts.join('; ')}: where their rows are gone, they run on here but their results are ignored, and they will not run again`
    : 'This runtime held no job at that moment';
}
