import type { Command } from 'commander';
import { InvalidInputError } from '../../errors.js';
import { addStoreOptions, openConfiguredStore } from '../common.js';
import { printJson } from '../format.js';

interface MigrateOptions {
  print?: boolean;
  requeueQueued?: boolean;
  createDatabase?: boolean;
  json?: boolean;
  databaseUrl?: string;
  jobsDir?: string;
}

export function registerMigrate(program: Command): void {
  addStoreOptions(
    program
      .command('migrate')
      .description('Create the jobs table, or upgrade an existing one in place (rows are kept)')
      .option('--print', 'print the SQL that would run, and change nothing')
      .option('--create-database', "MySQL: create the URL's database first when it does not exist (utf8mb4)")
      .option('--json', 'print what was done as JSON ({ store, createdDatabase, statements, notices })')
      .option('--requeue-queued', "MySQL: give jobs the old worker left claimed (status 'queued') back to run again; only once no old worker runs"),
  ).action(async (opts: MigrateOptions) => {
    if (opts.print && opts.createDatabase) throw new InvalidInputError('--print changes nothing, so it cannot --create-database: run one, then the other');
    const { store } = await openConfiguredStore(opts, { maxConnections: 1 });
    try {
      const report = await store.admin.migrate({
        dryRun: opts.print ?? false,
        requeueLegacyClaimed: opts.requeueQueued ?? false,
        createDatabase: opts.createDatabase ?? false,
      });
      const { statements, notices = [] } = report;
      const createdDatabase = report.createdDatabase ?? null;
      if (opts.json) return printJson({ store: store.displayUrl, dryRun: opts.print ?? false, createdDatabase, statements, notices });
      if (opts.createDatabase && createdDatabase === null) {
        process.stderr.write(`! --create-database: a ${store.kind} store has no database to create (it is created on first use)\n`);
      } else if (opts.createDatabase) {
        process.stdout.write(createdDatabase ? `✔ Created the database of ${store.displayUrl}\n` : `The database of ${store.displayUrl} exists already\n`);
      }
      if (opts.print) {
        process.stdout.write(statements.length ? statements.map((s) => `${s};\n`).join('\n') : `-- ${store.displayUrl} is up to date\n`);
      } else if (statements.length === 0) {
        process.stdout.write(`✔ ${store.displayUrl}: the jobs table is up to date\n`);
      } else {
        process.stdout.write(`✔ ${store.displayUrl}: ran ${statements.length} statement(s):\n${statements.map((s) => `${s};\n`).join('\n')}`);
      }
      for (const notice of notices) process.stderr.write(`! ${notice}\n`);
    } finally {
      await store.close();
    }
  });
}
