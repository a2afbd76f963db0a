import type { Command } from 'commander';
import { InvalidInputError } from '../../errors.js';
import { addStoreOptions, openConfiguredStore } from '../common.js';
import { formatAge, plural, printJson } from '../format.js';
import { retention } from '../options.js';

interface PruneOptions {
  keepCompleted?: number;
  keepFailed?: number;
  json?: boolean;
  databaseUrl?: string;
  jobsDir?: string;
}

export function registerPrune(program: Command): void {
  addStoreOptions(
    program
      .command('prune')
      .description("Delete, once, completed jobs past --keep-completed and failed jobs past --keep-failed (what a runtime's pruner does every minute)")
      .option('--keep-completed <duration>', "delete completed jobs older than this (e.g. 1d; 'forever' keeps them)", retention('--keep-completed'))
      .option('--keep-failed <duration>', "delete failed jobs older than this (e.g. 30d; 'forever' keeps them)", retention('--keep-failed'))
      .option('--json', 'print the counts as JSON'),
  ).action(async (opts: PruneOptions) => {
    if (opts.keepCompleted === undefined && opts.keepFailed === undefined) {
      throw new InvalidInputError(
        'Say what to prune: --keep-completed <duration> and/or --keep-failed <duration> (e.g. --keep-completed 1d --keep-failed 30d)',
      );
    }
    const finite = (ms: number | undefined) => (ms !== undefined && Number.isFinite(ms) ? ms : null);
    const completedOlderThanMs = finite(opts.keepCompleted);
    const failedOlderThanMs = finite(opts.keepFailed);
    const { store } = await openConfiguredStore(opts, { maxConnections: 1 });
    try {
      const report = await store.admin.prune({ completedOlderThanMs, failedOlderThanMs });
      if (opts.json) return printJson(report);
      const parts: string[] = [];
      if (completedOlderThanMs !== null) parts.push(`${plural(report.completed, 'completed job')} older than ${formatAge(completedOlderThanMs)}`);
      if (failedOlderThanMs !== null) parts.push(`${plural(report.failed, 'failed job')} older than ${formatAge(failedOlderThanMs)}`);
      process.stdout.write(parts.length ? `✔ Pruned ${parts.join(' and ')}\n` : 'Nothing to prune: both retentions are forever\n');
    } finally {
      await store.close();
    }
  });
}
