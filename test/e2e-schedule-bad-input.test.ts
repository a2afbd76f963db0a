// A job class with a bad static schedule: `start` refuses to start, naming the class, the field
// and the value, before registering anything; schedule() throws the same checks.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { killAll, runCli } from './helpers/cli.ts';
import { createApp, type E2eApp } from './helpers/e2e.ts';
import { schedule } from '../src/index.ts';
import { useStore } from '../src/dispatcher.ts';
import { Job } from '../src/job.ts';

after(() => killAll());

class Plain extends Job {
  async run() {}
}

describe('bad schedules', () => {
  let app: E2eApp;
  before(async () => {
    app = await createApp('sqlite', 'schedule_bad');
  });
  after(() => app?.close());

  const cases: Array<[string, string, RegExp]> = [
    [
      'BadCron',
      "{ cron: '61 * * * *' }",
      /job class BadCron \(.*BadCron\.mjs\): field 'cron' '61 \* \* \* \*' is not a cron text \(Invalid value for minute: 61\)/,
    ],
    ['BadZone', "{ cron: '@daily', tz: 'Europe/Atlantis' }", /job class BadZone .*field 'tz' "Europe\/Atlantis" is not an IANA time zone/],
    ['BadPayload', "{ cron: '@daily', payload: { at: new Date(0) } }", /job class BadPayload .*field 'payload': payload\.at is a Date/],
  ];
  for (const [name, spec, message] of cases) {
    test(`${name}: start refuses, naming class, field and value; nothing is stored`, async () => {
      const dir = join(app.dir, `jobs-${name}`);
      mkdirSync(dir);
      writeFileSync(join(dir, `${name}.mjs`), `export default class ${name} { static schedule = ${spec}; run() {} }\n`);
      const r = await runCli(['start', '--jobs-dir', dir, '--database-url', app.url], { cwd: app.dir, timeoutMs: 30_000 });
      assert.equal(r.code, 1, r.stdout + r.stderr);
      assert.match(r.stderr, message);
      assert.deepEqual(await app.store.admin.listSchedules(), []);
      assert.deepEqual(await app.store.registry.listRuntimes(), [], 'the runtime never registered');
    });
  }

  test('schedule() throws the same checks, and stores nothing', async () => {
    useStore(app.store);
    await assert.rejects(schedule({ key: 'x', cron: '* * *', job: Plain }), /schedule\(\) of job class Plain: field 'cron' '\* \* \*'/);
    await assert.rejects(schedule({ key: 'x', cron: '@daily', tz: 'Nowhere', job: Plain }), /field 'tz' "Nowhere"/);
    await assert.rejects(schedule({ key: '../etc', cron: '@daily', job: Plain }), /field 'key'.*"\.\.\/etc"/);
    assert.deepEqual(await app.store.admin.listSchedules(), []);
    await schedule({ key: 'ok', cron: '@daily', job: Plain });
    assert.deepEqual(
      (await app.store.admin.listSchedules()).map((s) => [s.key, s.kind, s.job.handler]),
      [['ok', 'dynamic', 'Plain']],
    );
  });
});
