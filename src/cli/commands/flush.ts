import type { Command } from 'commander';
import { createInterface } from 'node:readline/promises';
import { InvalidInputError } from '../../errors.js';
import { assertQueueName } from '../../values/names.js';
import type { FailedSelection } from '../../stores/store.js';
import { addStoreOptions, openConfiguredStore } from '../common.js';
import { formatAge, plural, printJson } from '../format.js';
import { duration } from '../options.js';

interface FlushOptions {
  queue?: string;
  olderThan?: number;
  yes?: boolean;
  json?: boolean;
  databaseUrl?: string;
  jobsDir?: string;
}

// Deletes failed jobs in bulk. It asks first when a person can answer (stdin is a terminal);
// without a terminal it refuses unless --yes says so up front: a script or cron line that
// forgot --yes must not delete what it did not mean to.

export function registerFlush(program: Command): void {
  addStoreOptions(
    program
      .command('flush')
      .description('Delete failed jobs in bulk (asks for confirmation on a terminal; needs --yes otherwise)')
      .option('--queue <name>', 'only this queue')
      .option('--older-than <duration>', 'only jobs that failed at least this long ago (e.g. 7d, 12 hours)', duration('--older-than'))
      .option('-y, --yes', 'do not ask')
      .option('--json', 'print the count as JSON'),
  ).action(async (opts: FlushOptions) => {
    if (opts.queue !== undefined) assertQueueName(opts.queue);
    const sel: FailedSelection = {
      ...(opts.queue !== undefined ? { queue: opts.queue } : {}),
      ...(opts.olderThan !== undefined ? { olderThanMs: opts.olderThan } : {}),
    };
    const what = `failed job(s)${opts.queue !== undefined ? ` on queue ${opts.queue}` : ''}${opts.olderThan !== undefined ? ` that failed more than ${formatAge(opts.olderThan)} ago` : ''}`;
    const { store } = await openConfiguredStore(opts, { maxConnections: 1 });
    try {
      if (!opts.yes) {
        const { total } = await store.admin.listFailed({ ...sel, limit: 1 });
        if (total === 0) {
          if (opts.json) return printJson({ deleted: 0 });
          process.stdout.write(`Nothing to flush: no ${what}.\n`);
          return;
        }
        if (!process.stdin.isTTY) {
          throw new InvalidInputError(`flush would delete ${total} ${what}: pass --yes to confirm (stdin is not a terminal, so it cannot ask)`);
        }
        const rl = createInterface({ input: process.stdin, output: process.stderr });
        const answer = await rl.question(`Delete ${total} ${what}? This cannot be undone. [y/N] `).finally(() => rl.close());
        if (!/^y(es)?$/i.test(answer.trim())) {
          process.stderr.write('Nothing deleted.\n');
          process.exitCode = 1;
          return;
        }
      }
      const deleted = await store.admin.deleteFailed(sel);
      if (opts.json) return printJson({ deleted });
      process.stdout.write(`✔ ${plural(deleted, 'failed job')} deleted\n`);
    } finally {
      await store.close();
    }
  });
}
