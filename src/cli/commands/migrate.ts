import type { Command } from 'commander';
import { InvalidInputError } from '../../errors.js';
import { addStoreOptions, openConfiguredStore } from '../common.js';
import { formatTime, printJson } from '../format.js';
import { queueList } from '../options.js';
import type { JobStore, TimeShiftReport } from '../../stores/store.js';

interface MigrateOptions {
  print?: boolean;
  requeueQueued?: boolean;
  queue?: string[];
  fromTimezone?: string;
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
      .option('--requeue-queued', "MySQL: give jobs in status 'queued' on --queue back to run again; any a PHP worker is running at that moment runs twice")
      .option('--queue <names>', 'the queues --requeue-queued gives back (required with it), comma separated', queueList)
      .option(
        '--from-timezone <zone>',
        "MySQL: once, move the due times of waiting PHP jobs written in this zone's wall clock (Lightpack up to v0.8.2, e.g. Asia/Kolkata) to UTC; prints the plan first",
      ),
  ).action(async (opts: MigrateOptions) => {
    if (opts.print && opts.createDatabase) throw new InvalidInputError('--print changes nothing, so it cannot --create-database: run one, then the other');
    if (opts.requeueQueued && !opts.queue) {
      throw new InvalidInputError(
        "--requeue-queued needs --queue <names>: a job in status 'queued' may be running in a PHP worker right now, and would run twice. " +
          'Name the queues no PHP worker runs any more',
      );
    }
    if (opts.queue && !opts.requeueQueued) throw new InvalidInputError('--queue names the queues of --requeue-queued: give both, or neither');
    const { store } = await openConfiguredStore(opts, { maxConnections: 1 });
    try {
      const report = await store.admin.migrate({
        dryRun: opts.print ?? false,
        requeueLegacyClaimed: opts.requeueQueued ?? false,
        ...(opts.queue ? { requeueQueues: opts.queue } : {}),
        createDatabase: opts.createDatabase ?? false,
      });
      const { statements, notices = [] } = report;
      const createdDatabase = report.createdDatabase ?? null;
      if (opts.json && opts.fromTimezone === undefined)
        return printJson({ store: store.displayUrl, dryRun: opts.print ?? false, createdDatabase, statements, notices });
      if (opts.json) {
        const plan = await shiftTimes(store.admin, opts.fromTimezone!, opts.print ?? false, true);
        return printJson({ store: store.displayUrl, dryRun: opts.print ?? false, createdDatabase, statements, notices, timeShift: plan });
      }
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
      if (opts.fromTimezone !== undefined) await shiftTimes(store.admin, opts.fromTimezone, opts.print ?? false, opts.json ?? false);
    } finally {
      await store.close();
    }
  });
}

/** The plan first (what moves, per queue), then the change, unless `dryRun`. */
async function shiftTimes(admin: JobStore['admin'], zone: string, dryRun: boolean, quiet: boolean): Promise<TimeShiftReport> {
  if (!admin.shiftWaitingTimes) throw new InvalidInputError('--from-timezone: only a MySQL table shared with Lightpack holds PHP-written times');
  const plan = await admin.shiftWaitingTimes({ fromZone: zone, dryRun: true });
  if (!quiet) process.stdout.write(describeShift(plan));
  if (dryRun || plan.rows === 0) return plan;
  const done = await admin.shiftWaitingTimes({ fromZone: zone, dryRun: false });
  if (!quiet) process.stdout.write(`✔ Moved ${done.shifted} waiting job(s) from ${zone} wall-clock time to UTC\n`);
  return done;
}

function describeShift(r: TimeShiftReport): string {
  if (r.rows === 0) return `No waiting PHP job to move from ${r.zone} time: nothing changes\n`;
  const hours = r.shiftsMs.map((ms) => `${ms >= 0 ? '−' : '+'}${Math.abs(ms) / 3_600_000} h`).join(', ');
  const lines = r.queues.map(
    (q) =>
      `  ${q.queue}: ${q.rows} job(s), due ${formatTime(q.first.from)} → ${formatTime(q.first.to)}` +
      (q.rows > 1 ? ` … ${formatTime(q.last.from)} → ${formatTime(q.last.to)}` : '') +
      ' (UTC)',
  );
  return `Waiting PHP jobs whose due times were written in ${r.zone} wall-clock time (${hours}); running, failed and Node jobs are left as they are:\n${lines.join('\n')}\n`;
}
