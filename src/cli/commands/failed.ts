import type { Command } from 'commander';
import { InvalidInputError } from '../../errors.js';
import { assertQueueName, MAX_HANDLER_LENGTH } from '../../values/names.js';
import type { JobRecord } from '../../stores/store.js';
import { addStoreOptions, openConfiguredStore } from '../common.js';
import { firstLine, formatTime, parseJobIds, plural, printJson, table } from '../format.js';
import { positiveInt } from '../options.js';

interface FailedOptions {
  queue?: string;
  handler?: string;
  limit: number;
  json?: boolean;
  databaseUrl?: string;
  jobsDir?: string;
}

/** Validates --queue and --handler filters of the failed-job commands. */
export function failedFilters(opts: { queue?: string; handler?: string }): { queue?: string; handler?: string } {
  if (opts.queue !== undefined) assertQueueName(opts.queue);
  // A filter names a handler as stored (Lightpack's `App\Jobs\SendMail` too): no file is loaded, so any name may be looked for.
  if (opts.handler !== undefined && (opts.handler.trim() === '' || opts.handler.length > MAX_HANDLER_LENGTH)) {
    throw new InvalidInputError(`Invalid --handler '${opts.handler}': give a handler name as stored, 1 to ${MAX_HANDLER_LENGTH} characters`);
  }
  return { ...(opts.queue !== undefined ? { queue: opts.queue } : {}), ...(opts.handler !== undefined ? { handler: opts.handler } : {}) };
}

export function registerFailed(program: Command): void {
  const failed = addStoreOptions(
    program
      .command('failed')
      .description("List failed jobs, most recent failure first (id, queue, handler, attempts, failed at, the error's first line)")
      .option('--queue <name>', 'only this queue')
      .option('--handler <name>', 'only this handler')
      .option('--limit <n>', 'list at most this many', positiveInt('--limit', 100_000), 50)
      .option('--json', 'print the jobs as JSON, payload and full exception included'),
  ).action(async (opts: FailedOptions) => {
    const filters = failedFilters(opts);
    const { store } = await openConfiguredStore(opts, { maxConnections: 1 });
    try {
      const page = await store.admin.listFailed({ ...filters, limit: opts.limit });
      if (opts.json) return printJson({ ...page, jobs: page.jobs.map(withParsedPayload) });
      if (page.total === 0) {
        process.stdout.write(`No failed jobs${describe(filters)}.\n`);
        return;
      }
      const width = Math.max(40, (process.stdout.isTTY ? process.stdout.columns : 0) || 160);
      const rows = page.jobs.map((j) => [String(j.id), j.queue, j.handler, `${j.attempts}/${j.maxAttempts}`, formatTime(j.failedAt)]);
      const lines = table(['ID', 'QUEUE', 'HANDLER', 'ATTEMPTS', 'FAILED AT (UTC)'], rows).split('\n');
      // The error's first line takes what is left of the line.
      const errorAt = Math.max(...lines.map((l) => l.length)) + 2;
      const text = lines.map((l, i) => l.padEnd(errorAt) + (i === 0 ? 'ERROR' : firstLine(page.jobs[i - 1]!.exception, Math.max(20, width - errorAt))));
      process.stdout.write(`${text.join('\n')}\n\n`);
      const shown = page.jobs.length < page.total ? `${page.jobs.length} of ${page.total} shown (--limit)` : `${plural(page.total, 'failed job')}`;
      process.stdout.write(`${shown}${describe(filters)}. \`jobs-runtime failed show <id>\` prints one in full.\n`);
    } finally {
      await store.close();
    }
  });

  addStoreOptions(
    failed.command('show <id>').description('Print one job in full: its fields, payload and whole exception').option('--json', 'print the job as JSON'),
  ).action(async (idText: string, _opts: unknown, cmd: Command) => {
    const opts = cmd.optsWithGlobals() as { json?: boolean; databaseUrl?: string; jobsDir?: string };
    const [id] = parseJobIds([idText]);
    const { store } = await openConfiguredStore(opts, { maxConnections: 1 });
    try {
      const job = await store.admin.getJob({ id: id! });
      if (!job) throw new InvalidInputError(`Job ${id} does not exist (completed jobs are deleted unless the runtime keeps them with --keep-completed)`);
      if (opts.json) return printJson(withParsedPayload(job));
      process.stdout.write(showJob(job));
    } finally {
      await store.close();
    }
  });
}

/** For --json: the payload as the JSON value it is, not as an escaped string (as stored, if it is not JSON). */
function withParsedPayload(j: JobRecord): Omit<JobRecord, 'payload'> & { payload: unknown } {
  try {
    return { ...j, payload: JSON.parse(j.payload) as unknown };
  } catch {
    return j;
  }
}

function describe(f: { queue?: string; handler?: string }): string {
  return (f.queue !== undefined ? ` on queue ${f.queue}` : '') + (f.handler !== undefined ? ` of handler ${f.handler}` : '');
}

function showJob(j: JobRecord): string {
  let payload = j.payload;
  try {
    payload = JSON.stringify(JSON.parse(j.payload), null, 2);
  } catch {
    // shown as stored
  }
  const fields: Array<[string, string]> = [
    ['status', j.status],
    ['queue', j.queue],
    ['handler', j.handler],
    ['attempts', `${j.attempts} of ${j.maxAttempts}`],
    ['created', `${formatTime(j.createdAt)} UTC`],
    ['scheduled', `${formatTime(j.scheduledAt)} UTC`],
    ['failed at', j.failedAt ? `${formatTime(j.failedAt)} UTC` : '-'],
    ['interruptions', String(j.interruptions)],
  ];
  if (j.owner) fields.push(['claimed by', j.owner]);
  // Flow control, shown when the job has it: what ordered and held it.
  if (j.priority !== 0) fields.push(['priority', String(j.priority)]);
  if (j.uniqueKey !== null) fields.push(['unique key', j.uniqueKey]);
  if (j.concurrencyKey !== null) fields.push(['concurrency', j.concurrencyKey]);
  if (j.rateKey !== null) fields.push(['rate key', j.rateKey]);
  const lines = [`Job ${j.id}`, ...fields.map(([k, v]) => `  ${k.padEnd(14)}${v}`), '', 'Payload:', payload, '', 'Exception:', j.exception ?? '(none)'];
  return `${lines.join('\n')}\n`;
}
