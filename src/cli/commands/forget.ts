import type { Command } from 'commander';
import { InvalidInputError } from '../../errors.js';
import { addStoreOptions, openConfiguredStore } from '../common.js';
import { parseJobIds, plural, printJson } from '../format.js';

export function registerForget(program: Command): void {
  addStoreOptions(
    program
      .command('forget <ids...>')
      .description('Delete failed jobs by id (only failed jobs: any other id is left alone)')
      .option('--json', 'print the count as JSON'),
  ).action(async (idTexts: string[], opts: { json?: boolean; databaseUrl?: string; jobsDir?: string }) => {
    const ids = parseJobIds(idTexts);
    if (ids.length === 0) throw new InvalidInputError('Name the failed jobs to forget by id');
    const { store } = await openConfiguredStore(opts, { maxConnections: 1 });
    try {
      const deleted = await store.admin.deleteFailed({ ids });
      if (opts.json) return printJson({ deleted, requested: ids.length });
      const skipped = ids.length - deleted;
      process.stdout.write(
        `✔ ${plural(deleted, 'failed job')} deleted` +
          (skipped > 0 ? ` (${skipped} of the ${ids.length} ids given ${skipped === 1 ? 'is' : 'are'} not a failed job)` : '') +
          '\n',
      );
    } finally {
      await store.close();
    }
  });
}
