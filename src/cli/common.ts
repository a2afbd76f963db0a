import type { Command } from 'commander';
import { resolveConfig, type ResolvedConfig } from '../config.js';
import { openStore, type StoreConnectOptions } from '../stores/open-store.js';
import type { JobStore } from '../stores/store.js';
import { parseMapOption } from '../values/lightpack.js';
import { queueList } from './options.js';

export function addStoreOptions(cmd: Command): Command {
  return cmd
    .option('--database-url <url>', 'store URL (default: JOBS_DATABASE_URL, .env, jobs.config.*, else sqlite:./.jobs/jobs.sqlite)')
    .option('--jobs-dir <dir>', 'directory of job files (default: JOBS_DIR, jobs.config.*, else ./jobs)')
    .option('--lightpack-queues <names>', "queues Lightpack's PHP workers run on this table (default: jobs.config.* lightpack.queues)", queueList)
    .option(
      '--lightpack-map <Class=Handler,…>',
      'PHP job classes whose rows jobs-runtime runs, e.g. App\\Jobs\\SendMail=SendMail (default: lightpack.map)',
      parseMapOption,
    );
}

export interface StoreCliOptions {
  databaseUrl?: string;
  jobsDir?: string;
  lightpackQueues?: string[];
  lightpackMap?: Record<string, string>;
}

/** The configured store; on MySQL, rows of Lightpack's PHP workers are left alone by every role. */
export async function openConfiguredStore(opts: StoreCliOptions, connect: StoreConnectOptions = {}): Promise<{ config: ResolvedConfig; store: JobStore }> {
  const config = await resolveConfig({
    databaseUrl: opts.databaseUrl,
    jobsDir: opts.jobsDir,
    applyToProcess: true,
    ...(opts.lightpackQueues ? { lightpackQueues: opts.lightpackQueues } : {}),
    ...(opts.lightpackMap ? { lightpackMap: opts.lightpackMap } : {}),
  });
  const foreignJobs = config.lightpack ? { queues: config.lightpack.queues, takenOver: [...config.lightpack.map.keys()] } : undefined;
  return { config, store: await openStore(config.databaseUrl, { ...connect, ...(foreignJobs ? { foreignJobs } : {}) }) };
}
