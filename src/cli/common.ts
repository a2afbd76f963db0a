import type { Command } from 'commander';
import { resolveConfig, type ResolvedConfig } from '../config.js';
import { openStore, type StoreConnectOptions } from '../stores/open-store.js';
import type { JobStore } from '../stores/store.js';

export function addStoreOptions(cmd: Command): Command {
  return cmd
    .option('--database-url <url>', 'store URL (default: JOBS_DATABASE_URL, .env, jobs.config.*, else sqlite:./.jobs/jobs.sqlite)')
    .option('--jobs-dir <dir>', 'directory of job files (default: JOBS_DIR, jobs.config.*, else ./jobs)');
}

export async function openConfiguredStore(
  opts: { databaseUrl?: string; jobsDir?: string },
  connect: StoreConnectOptions = {},
): Promise<{ config: ResolvedConfig; store: JobStore }> {
  const config = await resolveConfig({ databaseUrl: opts.databaseUrl, jobsDir: opts.jobsDir, applyToProcess: true });
  return { config, store: await openStore(config.databaseUrl, connect) };
}
