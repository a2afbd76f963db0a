import type { Command } from 'commander';
import { InvalidInputError } from '../../errors.js';
import { wakeByAddress, wakeUpsSent } from '../../wake/address-sender.js';
import { wakeRuntimes } from '../../wake/wake-sender.js';
import { newWakeKey } from '../../wake/wake-message.js';
import { addStoreOptions, openConfiguredStore } from '../common.js';
import { parseJobIds, plural, printJson } from '../format.js';
import { failedFilters } from './failed.js';

interface RetryOptions {
  all?: boolean;
  queue?: string;
  handler?: string;
  json?: boolean;
  databaseUrl?: string;
  jobsDir?: string;
}

export function registerRetry(program: Command): void {
  addStoreOptions(
    program
      .command('retry [ids...]')
      .description('Put failed jobs back to run again (attempts reset, due now; the old exception stays until the next run): by id, or --all')
      .option('--all', 'every failed job (narrowed by --queue and --handler)')
      .option('--queue <name>', 'with --all: only this queue')
      .option('--handler <name>', 'with --all: only this handler')
      .option('--json', 'print the counts as JSON'),
  ).action(async (idTexts: string[], opts: RetryOptions) => {
    const ids = parseJobIds(idTexts);
    if (ids.length === 0 && !opts.all)
      throw new InvalidInputError('Name the failed jobs to retry by id (jobs-runtime retry 12 15), or retry them all with --all');
    if (ids.length > 0 && opts.all) throw new InvalidInputError('Give job ids or --all, not both');
    if (ids.length > 0 && (opts.queue !== undefined || opts.handler !== undefined)) {
      throw new InvalidInputError('--queue and --handler narrow --all; with ids, the ids alone say which jobs');
    }
    const filters = failedFilters(opts);
    const { store } = await openConfiguredStore(opts, { maxConnections: 1 });
    try {
      const retried = await store.admin.retryFailed(ids.length > 0 ? { ids } : filters);
      if (retried > 0) {
        // Claimed at once: by this host's runtimes, and by others' that registered an address.
        const key = newWakeKey(); // one key for both paths: a runtime both reach claims once
        wakeRuntimes(store.displayUrl, key);
        wakeByAddress(store.producer, key);
        await wakeUpsSent(store.producer);
      }
      if (opts.json) return printJson(ids.length > 0 ? { retried, requested: ids.length } : { retried });
      const skipped = ids.length - retried;
      process.stdout.write(
        `✔ ${plural(retried, 'failed job')} put back to run again` +
          (ids.length > 0 && skipped > 0 ? ` (${skipped} of the ${ids.length} ids given ${skipped === 1 ? 'is' : 'are'} not a failed job)` : '') +
          '\n',
      );
    } finally {
      await store.close();
    }
  });
}
