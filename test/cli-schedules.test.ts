// `jobs-runtime schedules`, `schedules run <key>` and `schedules remove <key>` against the real
// CLI on every store: the table and its --json, one run now, and the lifecycle rule for a static
// schedule (refused while a registered runtime declares it, naming its class and file; removable
// once none does). The declaring runtime is registered through the store API, as a runtime would.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { ScheduleView } from '../src/operations/schedule-view.ts';
import type { JobStore } from '../src/stores/store.ts';
import { killAll } from './helpers/cli.ts';
import { JOBS_DIR } from './helpers/e2e.ts';
import { jobRow } from './helpers/job-rows.ts';
import { createOpsApp, type OpsApp } from './helpers/ops.ts';
import { STORE_FACTORIES } from './helpers/stores.ts';

after(() => killAll());

for (const factory of STORE_FACTORIES) {
  describe(`cli schedules: ${factory.kind}`, () => {
    let app: OpsApp;
    let store: JobStore;
    const runtime = { id: 'cli-sched-rt', host: 'h', pid: 1, queues: null, threads: 1 };
    before(async () => {
      app = await createOpsApp(factory, 'cli_schedules');
      store = app.store;
      await store.registry.registerRuntime({ runtime });
      await store.registry.declareSchedules({
        runtimeId: runtime.id,
        schedules: [{ key: 'Ok', cron: '0 3 * * *', tz: 'Europe/Paris', misfire: 'skip', job: jobRow({ queue: 'cli-static' }) }],
      });
      await store.producer.saveSchedule({
        schedule: { key: 'dyn-often', cron: '*/10 * * * * *', tz: 'UTC', misfire: 'once', job: jobRow({ queue: 'cli-dyn', payload: { n: 1 } }) },
      });
    });
    after(async () => app?.cleanup());

    test('schedules: a table of both, and --json with every field', { timeout: 60_000 }, async () => {
      const [text, json] = await Promise.all([app.cli(['schedules']), app.cli(['schedules', '--json'])]);
      assert.equal(text.code, 0, text.stderr);
      const rows = text.stdout.trim().split('\n');
      assert.match(rows[0]!, /^KEY\s+CRON\s+TZ\s+JOB\s+NEXT RUN \(UTC\)\s+LAST RUN \(UTC\)\s+LAST JOB\s+KIND\s+DECLARED BY$/);
      assert.match(
        rows.find((r) => r.startsWith('Ok '))!,
        /^Ok\s+0 3 \* \* \*\s+Europe\/Paris\s+Ok \(cli-static\)\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\s+-\s+-\s+static\s+cli-sched-rt$/,
      );
      assert.match(rows.find((r) => r.startsWith('dyn-often '))!, /^dyn-often\s+\*\/10 \* \* \* \* \*\s+UTC\s+Ok \(cli-dyn\)\s+\S+ \S+\s+-\s+-\s+dynamic\s+-$/);

      assert.equal(json.code, 0, json.stderr);
      const { schedules } = JSON.parse(json.stdout) as { schedules: ScheduleView[] };
      assert.deepEqual(
        schedules.map((s) => s.key),
        ['Ok', 'dyn-often'],
      );
      const [st, dyn] = schedules as [ScheduleView, ScheduleView];
      const { nextRunAt, ...rest } = st;
      assert.deepEqual(rest, {
        key: 'Ok',
        kind: 'static',
        cron: '0 3 * * *',
        tz: 'Europe/Paris',
        misfire: 'skip',
        handler: 'Ok',
        queue: 'cli-static',
        active: true,
        declaredBy: ['cli-sched-rt'],
        lastRunAt: null,
        lastJobId: null,
        lastOutcome: null,
      });
      // 03:00 in Paris is 01:00 or 02:00 UTC, within a day of now.
      assert.match(nextRunAt!, /^\d{4}-\d\d-\d\dT0[12]:00:00\.000Z$/);
      assert.ok(Date.parse(nextRunAt!) - Date.now() <= 86_400_000 + 60_000);
      assert.equal(dyn.kind, 'dynamic');
      assert.equal(dyn.misfire, 'once');
      assert.equal(Date.parse(dyn.nextRunAt!) % 10_000, 0, 'every 10 s, on the 10 s');
    });

    test('schedules run <key> enqueues one job of the schedule now, --json prints its id', { timeout: 60_000 }, async () => {
      const r = await app.cli(['schedules', 'run', 'dyn-often', '--json']);
      assert.equal(r.code, 0, r.stderr);
      const { id, duplicate } = JSON.parse(r.stdout) as { id: number; duplicate: boolean };
      assert.equal(duplicate, false);
      const job = await store.admin.getJob({ id });
      assert.deepEqual([job?.handler, job?.queue, job?.payload], ['Ok', 'cli-dyn', '{"n":1}']);
      const plain = await app.cli(['schedules', 'run', 'Ok']);
      assert.equal(plain.code, 0, plain.stderr);
      assert.match(plain.stdout, /^✔ Enqueued job \d+ \(Ok\) for schedule Ok\n$/);
      // Not a tick: the schedules' last runs stay as they were.
      assert.deepEqual(
        (await store.admin.listSchedules({})).map((s) => s.lastTickAtMs),
        [null, null],
      );
      const none = await app.cli(['schedules', 'run', 'no-such']);
      assert.notEqual(none.code, 0);
      assert.match(none.stderr, /No schedule 'no-such'/);
    });

    test('schedules remove: a declared static one is refused naming its class and file; undeclared, it goes', { timeout: 60_000 }, async () => {
      const refused = await app.cli(['schedules', 'remove', 'Ok']);
      assert.notEqual(refused.code, 0);
      assert.ok(refused.stderr.includes(`job class Ok in ${join(JOBS_DIR, 'Ok.ts')}`), refused.stderr);
      assert.match(refused.stderr, /running runtimes declare it \(cli-sched-rt\)/);
      assert.equal((await store.admin.listSchedules({})).length, 2, 'nothing removed');

      // Its runtime stops: the schedule stays listed, inactive, until an operator removes it.
      await store.registry.deregisterRuntime({ id: runtime.id });
      const listed = await app.cli(['schedules']);
      assert.match(listed.stdout.split('\n').find((l) => l.startsWith('Ok '))!, /\binactive\b.*\bstatic\s+no runtime$/);
      const removed = await app.cli(['schedules', 'remove', 'Ok', '--json']);
      assert.equal(removed.code, 0, removed.stderr);
      assert.deepEqual(JSON.parse(removed.stdout), { key: 'Ok', kind: 'static', removed: true });
      // Its key is free: a dynamic schedule may take it now.
      await store.producer.saveSchedule({ schedule: { key: 'Ok', cron: '@daily', tz: 'UTC', misfire: 'skip', job: jobRow() } });

      const dyn = await app.cli(['schedules', 'remove', 'dyn-often']);
      assert.equal(dyn.code, 0, dyn.stderr);
      assert.equal(dyn.stdout, '✔ Schedule dyn-often removed: no tick of it runs from now on\n');
      const again = await app.cli(['schedules', 'remove', 'dyn-often', '--json']);
      assert.deepEqual(JSON.parse(again.stdout), { key: 'dyn-often', kind: null, removed: false });
      assert.deepEqual(
        (await store.admin.listSchedules({})).map((s) => [s.key, s.kind]),
        [['Ok', 'dynamic']],
      );
    });
  });
}
