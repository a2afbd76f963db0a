import type { Command } from 'commander';
import { InvalidInputError } from '../../errors.js';
import { listJobFiles } from '../../execution/job-files.js';
import { runScheduleNow } from '../../operations/schedule-run.js';
import { gatherSchedules, type ScheduleView } from '../../operations/schedule-view.js';
import { assertScheduleKey } from '../../values/names.js';
import { addStoreOptions, openConfiguredStore } from '../common.js';
import { formatTime, printJson, table } from '../format.js';

// `jobs-runtime schedules` lists every schedule; `schedules run <key>` enqueues one run now (not
// a tick: the schedule's ticks go on as before); `schedules remove <key>` removes a dynamic one.

type Opts = { json?: boolean; databaseUrl?: string; jobsDir?: string };

export function registerSchedules(program: Command): void {
  const schedules = addStoreOptions(
    program
      .command('schedules')
      .description('List recurring schedules: key, cron, zone, next and last run, static or dynamic, which runtimes declare it')
      .option('--json', 'print the list as JSON'),
  ).action(async (opts: Opts) => {
    const { store } = await openConfiguredStore(opts, { maxConnections: 1 });
    try {
      const { schedules: list } = await gatherSchedules(store);
      if (opts.json) return printJson({ schedules: list });
      process.stdout.write(`${renderSchedules(list)}\n`);
    } finally {
      await store.close();
    }
  });

  addStoreOptions(
    schedules
      .command('run <key>')
      .description("Enqueue one run of a schedule's job now (not a tick: the schedule's own ticks go on)")
      .option('--json', 'print {"id": N, "duplicate": false}'),
  ).action(async (key: string, _: Opts, cmd: Command) => {
    const opts = cmd.optsWithGlobals<Opts>(); // commander gives options shared with `schedules` to it
    assertScheduleKey(key);
    const { store } = await openConfiguredStore(opts, { maxConnections: 1 });
    try {
      const { schedule, result } = await runScheduleNow(store, key);
      if (opts.json) return printJson(result);
      process.stdout.write(
        `✔ Enqueued job ${result.id} (${schedule.job.handler}) for schedule ${key}${result.duplicate ? ': a duplicate of a job with its unique key' : ''}\n`,
      );
    } finally {
      await store.close();
    }
  });

  addStoreOptions(
    schedules
      .command('remove <key>')
      .description('Remove a dynamic schedule, or a static one no running runtime declares any more (while one does, it lives in its job class)')
      .option('--json', 'print {"key": …, "kind": "dynamic"|"static"|null, "removed": true|false}'),
  ).action(async (key: string, _: Opts, cmd: Command) => {
    const opts = cmd.optsWithGlobals<Opts>();
    assertScheduleKey(key);
    const { config, store } = await openConfiguredStore(opts, { maxConnections: 1 });
    try {
      const found = (await store.admin.listSchedules()).find((s) => s.key === key);
      if (!found) {
        if (opts.json) return printJson({ key, kind: null, removed: false });
        throw new InvalidInputError(`No schedule '${key}' (\`jobs-runtime schedules\` lists them)`);
      }
      if (found.kind === 'dynamic') {
        const removed = await store.producer.removeSchedule({ key });
        if (opts.json) return printJson({ key, kind: 'dynamic', removed });
        if (!removed) throw new InvalidInputError(`No schedule '${key}' any more: removed meanwhile`);
        process.stdout.write(`✔ Schedule ${key} removed: no tick of it runs from now on\n`);
        return;
      }
      // Static: removed only once no running runtime declares it (the store checks under its lock).
      const { removed, declaredBy } = await store.admin.removeUndeclaredSchedule({ key });
      if (!removed && declaredBy.length > 0) {
        const file = listJobFiles(config.jobsDir).find((f) => f.handler === found.job.handler)?.file ?? `the file of job class ${found.job.handler}`;
        throw new InvalidInputError(
          `Schedule '${key}' is static: it is declared by job class ${found.job.handler} in ${file}, and running runtimes declare it ` +
            `(${declaredBy.join(', ')}). Remove its \`static schedule\` there and deploy; it stops once no running runtime declares it any more`,
        );
      }
      if (opts.json) return printJson({ key, kind: 'static', removed });
      if (!removed) throw new InvalidInputError(`No schedule '${key}' any more: removed meanwhile`);
      process.stdout.write(
        `✔ Static schedule ${key} removed (no running runtime declared it); its key is free. A runtime whose ${found.job.handler} still declares it brings it back\n`,
      );
    } finally {
      await store.close();
    }
  });
}

export function renderSchedules(list: ScheduleView[]): string {
  if (list.length === 0) return 'Schedules: none';
  const time = (iso: string | null) => (iso === null ? '-' : formatTime(new Date(iso)));
  return table(
    ['KEY', 'CRON', 'TZ', 'JOB', 'NEXT RUN (UTC)', 'LAST RUN (UTC)', 'LAST JOB', 'KIND', 'DECLARED BY'],
    list.map((s) => [
      s.key,
      s.cron,
      s.tz,
      `${s.handler}${s.queue === 'default' ? '' : ` (${s.queue})`}`,
      s.active ? time(s.nextRunAt) : 'inactive',
      time(s.lastRunAt),
      s.lastJobId === null ? '-' : `${s.lastJobId} ${s.lastOutcome}`,
      s.kind,
      s.kind === 'dynamic' ? '-' : s.declaredBy.length === 0 ? 'no runtime' : s.declaredBy.join(', '),
    ]),
  );
}
