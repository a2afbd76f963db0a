import type { Command } from 'commander';
import { addStoreOptions, openConfiguredStore } from '../common.js';

export function registerMigrate(program: Command): void {
  addStoreOptions(
    program
      .command('migrate')
      .description('Create the jobs table, or upgrade an existing one in place (rows are kept)')
      .option('--print', 'print the SQL that would run, and change nothing')
      .option('--requeue-queued', "MySQL: give jobs the old worker left claimed (status 'queued') back to run again; only once no old worker runs"),
  ).action(async (opts: { print?: boolean; requeueQueued?: boolean; databaseUrl?: string; jobsDir?: string }) => {
    const { store } = await openConfiguredStore(opts, { maxConnections: 1 });
    try {
      const { statements, notices } = await store.admin.migrate({ dryRun: opts.print ?? false, requeueLegacyClaimed: opts.requeueQueued ?? false });
      if (opts.print) {
        process.stdout.write(statements.length ? statements.map((s) => `${s};\n`).join('\n') : `-- ${store.displayUrl} is up to date\n`);
      } else if (statements.length === 0) {
        process.stdout.write(`✔ ${store.displayUrl}: the jobs table is up to date\n`);
      } else {
        process.stdout.write(`✔ ${store.displayUrl}: ran ${statements.length} statement(s):\n${statements.map((s) => `${s};\n`).join('\n')}`);
      }
      for (const notice of notices ?? []) process.stderr.write(`! ${notice}\n`);
    } finally {
      await store.close();
    }
  });
}
