import { Command, Option } from 'commander';
import { hostname } from 'node:os';
import { availableParallelism } from 'node:os';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { Logger, type LogFormat } from '../../runtime/logger.js';
import { Runtime } from '../../runtime/runtime.js';
import { ThreadPool } from '../../runtime/thread-pool.js';
import { StoreUnavailableError } from '../../errors.js';
import { addStoreOptions, openConfiguredStore } from '../common.js';
import { duration, positiveInt, queueList } from '../options.js';

interface StartOptions {
  procs: number;
  concurrency: number;
  queue?: string[];
  sleep: number;
  batch: number;
  timeout?: number;
  grace: number;
  maxMemoryMb?: number;
  stopWhenEmpty?: boolean;
  keepCompleted?: boolean;
  log?: string;
  quiet?: boolean;
  json?: boolean;
  databaseUrl?: string;
  jobsDir?: string;
}

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
      .option('--queue <names>', "queues to run, in strict priority order, comma separated (default: all)", queueList)
      .addOption(new Option('--sleep <seconds>', 'poll interval when no job is due (seconds, or text like 500ms)').argParser(duration('--sleep')).default(1000, '1'))
      .option('--batch <n>', 'most jobs claimed in one round trip', positiveInt('--batch', 10_000), 500)
      .option('--timeout <duration>', 'hard time limit per run for jobs that set none (e.g. 30s, 5 minutes)', duration('--timeout'))
      .addOption(new Option('--grace <duration>', 'on SIGTERM/SIGINT, how long running jobs may finish (seconds, or text)').argParser(duration('--grace')).default(30_000, '30'))
      .option('--max-memory-mb <mb>', 'heap limit per worker thread, in MB', positiveInt('--max-memory-mb', 1_000_000))
      .option('--stop-when-empty', 'exit 0 once no job is due and none is running')
      .option('--keep-completed', "keep finished jobs as 'completed' instead of deleting them")
      .option('--log <file>', 'also append plain log lines to this file (SIGHUP reopens it)')
      .option('--quiet', 'leave out the per-job success lines')
      .option('--json', 'print one JSON object per event');
    addStoreOptions(cmd).action((opts: StartOptions) => start(opts, version));
  }
}

async function start(opts: StartOptions, version: string): Promise<void> {
  const format: LogFormat = opts.json ? 'json' : process.stdout.isTTY ? 'pretty' : 'plain';
  const log = new Logger({ format, quiet: opts.quiet ?? false, ...(opts.log ? { logFile: opts.log } : {}) });
  const { config, store } = await openConfiguredStore(opts, { maxConnections: 4 });
  try {
    // A MySQL table that is missing or not upgraded gets a clear error now, not at the first claim.
    const pending = await store.migrate({ dryRun: true });
    if (store.kind !== 'sqlite' && pending.statements.length > 0) {
      throw new StoreUnavailableError(`The jobs table at ${store.displayUrl} is missing or out of date: run \`jobs-runtime migrate\` first`);
    }
    if (!existsSync(config.jobsDir)) log.warn(`Jobs directory ${config.jobsDir} does not exist: every job will fail as an unknown handler`);
  } catch (e) {
    await store.close();
    log.close();
    throw e;
  }

  const owner = `${hostname().slice(0, 40)}:${process.pid}:${randomBytes(3).toString('hex')}`;
  const executor = new ThreadPool({ threads: opts.procs, concurrency: opts.concurrency, jobsDir: config.jobsDir, ...(opts.maxMemoryMb ? { maxMemoryMb: opts.maxMemoryMb } : {}) });
  const runtime = new Runtime({
    store,
    executor,
    log,
    owner,
    queues: opts.queue ?? null,
    batch: opts.batch,
    pollMs: opts.sleep,
    timeoutMs: opts.timeout ?? null,
    stopWhenEmpty: opts.stopWhenEmpty ?? false,
    keepCompleted: opts.keepCompleted ?? false,
    graceMs: opts.grace,
  });

  let signals = 0;
  const onStop = (signal: NodeJS.Signals) => {
    signals++;
    if (signals === 1) {
      log.info(`${signal} received: stopping (claiming no more jobs; running jobs have ${Math.round(opts.grace / 1000)} s to finish; ${signal === 'SIGINT' ? 'press Ctrl-C again' : 'send SIGINT'} to force)`);
      runtime.stop();
    } else if (signal === 'SIGINT') {
      log.warn(`Forced stop: ${runtime.inFlight} job(s) left claimed; they run again when this runtime's claims are recovered`);
      log.close();
      process.exit(130);
    }
  };
  process.on('SIGTERM', onStop);
  process.on('SIGINT', onStop);
  process.on('SIGHUP', () => log.reopen());

  log.info(
    `jobs-runtime ${version} started: store ${store.displayUrl} (${config.source}), queues ${opts.queue?.join(' > ') ?? 'all'}, ` +
      `${opts.procs} thread(s) × ${opts.concurrency}, jobs from ${config.jobsDir}, pid ${process.pid}`,
    { owner },
  );
  const summary = await runtime.run();
  await executor.close();
  await store.close();
  log.info(
    `jobs-runtime stopped: ${summary.completed} completed, ${summary.failed} failed, ${summary.retried} retried, ${summary.released} given back`,
    { ...summary },
  );
  log.close();
  process.removeListener('SIGTERM', onStop);
  process.removeListener('SIGINT', onStop);
}
