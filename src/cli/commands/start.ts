import { type Command, Option } from 'commander';
import { availableParallelism } from 'node:os';
import { existsSync } from 'node:fs';
import { Logger, type LogFormat } from '../../runtime/logger.js';
import { runMaster } from '../../runtime/master.js';
import { InvalidInputError, StoreUnavailableError } from '../../errors.js';
import { addStoreOptions, openConfiguredStore } from '../common.js';
import { DEFAULT_KEEP_OUTCOMES_MS, duration, durationAtLeast, outcomeRetention, port, positiveInt, queueList, retention } from '../options.js';
import { parseWakeAddress, type WakeBind } from '../../wake/wake-address.js';
import type { JobStore } from '../../stores/store.js';
import type { LightpackSetting } from '../../values/lightpack.js';

interface StartOptions {
  procs: number;
  concurrency: number;
  queue?: string[];
  sleep: number;
  batch: number;
  timeout?: number;
  grace: number;
  maxMemoryMb?: number;
  memory?: number;
  maxJobs?: number;
  maxTime?: number;
  heartbeat: number;
  storeTimeout: number;
  deadAfter: number;
  maxInterruptions: number;
  stopWhenEmpty?: boolean;
  /** true (bare flag) or Infinity: keep for ever; a number: keep this many ms. */
  keepCompleted?: boolean | number;
  keepFailed?: number;
  keepOutcomes?: number;
  pruneEvery: number;
  metricsPort?: number;
  metricsHost: string;
  wakeAddress?: WakeBind | 'local';
  log?: string;
  quiet?: boolean;
  json?: boolean;
  databaseUrl?: string;
  jobsDir?: string;
}

/** A duration option with a default; a bare number is seconds. At least `min` ([ms, text]) when given. */
const seconds = (flags: string, description: string, defaultMs: number, shown: string, min?: [number, string]) => {
  const name = flags.split(' ')[0]!;
  return new Option(flags, `${description} (seconds, or text like 500ms, 2 minutes)`)
    .argParser(min ? durationAtLeast(name, min[0], min[1]) : duration(name))
    .default(defaultMs, shown);
};

export function registerStart(program: Command, version: string): void {
  for (const name of ['start', 'process:jobs']) {
    const cmd = program
      .command(name)
      .description(
        name === 'start'
          ? 'Run jobs: one master claims batches from the store and runs them on a pool of worker threads'
          : "Same as 'start' (the name used by the system this runtime ports)",
      )
      .addOption(new Option('--procs <n>', 'worker threads').argParser(positiveInt('--procs', 256)).default(availableParallelism(), 'the number of CPUs'))
      .option('--concurrency <n>', 'async jobs in flight per thread', positiveInt('--concurrency', 1000), 1)
      .option('--queue <names>', 'queues to run, in strict priority order, comma separated (default: all)', queueList)
      .addOption(seconds('--sleep <seconds>', 'poll interval when no job is due', 1000, '1', [10, '10 ms']))
      .option('--batch <n>', 'most jobs claimed in one round trip', positiveInt('--batch', 10_000), 2000)
      .option('--timeout <duration>', 'hard time limit per run for jobs that set none (e.g. 30s, 5 minutes)', durationAtLeast('--timeout', 1, '1 ms'))
      .addOption(seconds('--grace <seconds>', 'on SIGTERM/SIGINT, how long running jobs may finish', 30_000, '30'))
      .option('--max-memory-mb <mb>', 'heap limit per worker thread, in MB', positiveInt('--max-memory-mb', 1_000_000))
      .option('--memory <mb>', 'drain and exit 75 once the master RSS passes this many MB', positiveInt('--memory', 1_000_000))
      .option('--max-jobs <n>', 'drain and exit 75 after claiming this many jobs', positiveInt('--max-jobs', Number.MAX_SAFE_INTEGER))
      .option('--max-time <duration>', 'drain and exit 75 after running this long (e.g. 1 hour)', durationAtLeast('--max-time', 1000, '1 s'))
      .addOption(seconds('--heartbeat <seconds>', 'how often this runtime reports itself alive', 5_000, '5', [100, '100 ms']))
      .addOption(seconds('--store-timeout <seconds>', 'a store call not answered within this fails, its connection closed', 30_000, '30', [100, '100 ms']))
      .addOption(seconds('--dead-after <seconds>', 'a runtime silent this long is dead: its claimed jobs run again', 30_000, '30'))
      .option(
        '--max-interruptions <n>',
        'fail a job whose runtime died more than this many times while running it',
        positiveInt('--max-interruptions', 1_000),
        3,
      )
      .option('--stop-when-empty', 'exit 0 once no job is due, none is running and no retry of this run is pending')
      .option(
        '--keep-completed [duration]',
        "keep finished jobs as 'completed' for this long (e.g. 1d; bare or 'forever': never pruned) instead of deleting them",
        retention('--keep-completed'),
      )
      .option('--keep-failed <duration>', 'delete failed jobs once they are this old (e.g. 30d; default: keep them)', retention('--keep-failed'))
      .option(
        '--keep-outcomes <duration>',
        "keep job outcomes for waitFor() and jobEvents() this long (default 1h; 0 or 'off': not kept, 'forever': never pruned)",
        outcomeRetention('--keep-outcomes'),
      )
      .addOption(seconds('--prune-every <seconds>', 'how often one runtime prunes rows past --keep-completed/--keep-failed', 60_000, '60', [1000, '1 s']))
      .option('--metrics-port <port>', 'serve Prometheus metrics on http://<metrics-host>:<port>/metrics', port('--metrics-port'))
      .option('--metrics-host <host>', 'address the metrics server binds to', '127.0.0.1')
      .option(
        '--wake-address <host[:port]>',
        "where dispatches on other hosts wake this runtime, by UDP (MySQL; default: this host's address towards the store, any free port; 'local': this host only)",
        parseWakeAddress,
      )
      .option('--log <file>', 'also append plain log lines to this file (SIGHUP reopens it)')
      .option('--quiet', 'leave out the per-job success lines')
      .option('--json', 'print one JSON object per event');
    addStoreOptions(cmd).action(async (opts: StartOptions) => {
      process.exitCode = await start(opts, version);
    });
  }
}

async function start(opts: StartOptions, version: string): Promise<number> {
  if (opts.deadAfter <= opts.heartbeat * 2) {
    throw new InvalidInputError(
      `--dead-after (${opts.deadAfter} ms) must be more than twice --heartbeat (${opts.heartbeat} ms), or live runtimes would be taken for dead`,
    );
  }
  const format: LogFormat = opts.json ? 'json' : process.stdout.isTTY ? 'pretty' : 'plain';
  const log = new Logger({ format, quiet: opts.quiet ?? false, ...(opts.log ? { logFile: opts.log } : {}) });
  const { config, store } = await openConfiguredStore(opts, { maxConnections: 4, callTimeoutMs: opts.storeTimeout });
  try {
    // A MySQL table that is missing or not upgraded gets a clear error now, not at the first claim.
    const pending = await store.admin.migrate({ dryRun: true });
    if (store.capabilities.needsMigrate && pending.statements.length > 0) {
      throw new StoreUnavailableError(`The jobs table at ${store.displayUrl} is missing or out of date: run \`jobs-runtime migrate\` first`);
    }
    for (const notice of pending.notices ?? []) log.warn(notice);
    await assertSafeWithLightpack(store, opts.queue ?? null, config.lightpack);
    // Retention: the option, else the config file's keepCompleted / keepFailed.
    const fromFile = (key: 'keepCompleted' | 'keepFailed' | 'keepOutcomes', option: string): number | undefined => {
      const text = config.retention?.[key];
      if (text === undefined) return undefined;
      try {
        return (key === 'keepOutcomes' ? outcomeRetention(option) : retention(option))(text);
      } catch (e) {
        throw new InvalidInputError(`${config.retention!.file}: ${key}: ${(e as Error).message}`);
      }
    };
    const keepCompleted = opts.keepCompleted ?? fromFile('keepCompleted', '--keep-completed');
    const keepFailed = opts.keepFailed ?? fromFile('keepFailed', '--keep-failed');
    const keepOutcomes = opts.keepOutcomes ?? fromFile('keepOutcomes', '--keep-outcomes') ?? DEFAULT_KEEP_OUTCOMES_MS;
    if (!existsSync(config.jobsDir)) log.warn(`Jobs directory ${config.jobsDir} does not exist: every job will fail as an unknown handler`);
    return await runMaster({
      store,
      log,
      version,
      storeSource: config.source,
      jobsDir: config.jobsDir,
      threads: opts.procs,
      concurrency: opts.concurrency,
      queues: opts.queue ?? null,
      ...(config.lightpack ? { takeOver: config.lightpack.map, phpQueues: config.lightpack.queues } : {}),
      batch: opts.batch,
      pollMs: opts.sleep,
      timeoutMs: opts.timeout ?? null,
      graceMs: opts.grace,
      maxMemoryMb: opts.maxMemoryMb ?? null,
      stopWhenEmpty: opts.stopWhenEmpty ?? false,
      keepCompleted: keepCompleted !== undefined && keepCompleted !== false,
      completedRetentionMs: typeof keepCompleted === 'number' && Number.isFinite(keepCompleted) ? keepCompleted : null,
      failedRetentionMs: keepFailed !== undefined && Number.isFinite(keepFailed) ? keepFailed : null,
      keepOutcomesMs: keepOutcomes,
      pruneEveryMs: opts.pruneEvery,
      metrics: opts.metricsPort ? { host: opts.metricsHost, port: opts.metricsPort } : null,
      wakeAddress: opts.wakeAddress ?? null,
      heartbeatMs: opts.heartbeat,
      deadAfterMs: opts.deadAfter,
      maxInterruptions: opts.maxInterruptions,
      memoryLimitMb: opts.memory ?? null,
      maxJobs: opts.maxJobs ?? null,
      maxTimeMs: opts.maxTime ?? null,
    });
  } finally {
    await store.close();
    log.close();
  }
}

/**
 * A runtime must never take Lightpack's jobs: `--queue` naming a PHP queue is refused, and so is
 * a start on all queues of a table that holds PHP jobs while no setting says which queues are PHP's.
 */
async function assertSafeWithLightpack(store: JobStore, queues: string[] | null, lightpack: LightpackSetting | undefined): Promise<void> {
  const php = queues?.filter((q) => lightpack?.queues.includes(q)) ?? [];
  if (php.length > 0) {
    throw new InvalidInputError(
      `--queue ${php.join(',')}: Lightpack's PHP workers run ${php.length > 1 ? 'these queues' : 'this queue'} (lightpack.queues), and jobs-runtime never claims their jobs. ` +
        'To move a queue to jobs-runtime, first stop its PHP workers and take it out of lightpack.queues',
    );
  }
  if (queues !== null || lightpack || !store.admin.foreignHandlerQueues) return;
  const found = await store.admin.foreignHandlerQueues();
  if (found.length === 0) return;
  const list = found.map((f) => `${f.queue} (${f.jobs} job(s), e.g. ${f.example})`).join(', ');
  const names = found.map((f) => f.queue).join(',');
  throw new InvalidInputError(
    `The jobs table at ${store.displayUrl} holds Lightpack (PHP) jobs on ${list}: a runtime on all queues would take jobs PHP workers run. ` +
      `Either give it its own queues (start --queue <names>), or declare the PHP queues, so that every runtime leaves them to PHP: ` +
      `"lightpack": { "queues": ${JSON.stringify(found.map((f) => f.queue))} } in jobs.config.json, or --lightpack-queues ${names}`,
  );
}
