// What the README promises scripts, checked against the real CLI: `--json` on dispatch,
// migrate and create:job, dispatch's --retry-after and --timeout (validated as the API
// validates them), `start --json` start and stop events with fields instead of prose, and a
// top-level help that names every store.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { JobStore } from '../src/stores/store.ts';
import { killAll, runCli } from './helpers/cli.ts';
import { JOBS_DIR } from './helpers/e2e.ts';
import { createOpsApp, type OpsApp } from './helpers/ops.ts';
import { STORE_FACTORIES } from './helpers/stores.ts';

const SQLITE = STORE_FACTORIES.find((f) => f.kind === 'sqlite')!;

after(() => killAll());

describe('cli: --json and the options the README names (SQLite)', () => {
  let app: OpsApp;
  let store: JobStore;
  const cli = (args: string[]) => app.cli(args);
  const lines = (text: string) => text.split('\n').filter((l) => l.length > 0);

  before(async () => {
    app = await createOpsApp(SQLITE, 'cli_json');
    store = app.store;
  });
  after(async () => app?.cleanup());

  test('the top-level help names every store; dispatch, migrate and create:job document --json', { timeout: 45_000 }, async () => {
    const [top, dispatch, migrate, createJob] = await Promise.all([
      runCli(['--help']),
      runCli(['dispatch', '--help']),
      runCli(['migrate', '--help']),
      runCli(['create:job', '--help']),
    ]);
    assert.match(top!.stdout, /MySQL\/MariaDB, Redis or SQLite/);
    for (const opt of ['--retry-after', '--timeout', '--json']) assert.ok(dispatch!.stdout.includes(opt), `dispatch --help names ${opt}`);
    for (const opt of ['--json', '--create-database']) assert.ok(migrate!.stdout.includes(opt), `migrate --help names ${opt}`);
    assert.ok(createJob!.stdout.includes('--json'), 'create:job --help names --json');
  });

  test('dispatch --json prints {"id": N, "duplicate": false}; --retry-after, --timeout and --priority reach the stored job', { timeout: 45_000 }, async () => {
    const r = await cli(['dispatch', 'Ok', '--queue', 'json-q', '--json', '--retry-after', '90', '--timeout', '2 minutes', '--priority', '-7']);
    assert.equal(r.code, 0, r.stderr);
    const printed = JSON.parse(r.stdout) as { id: number; duplicate: boolean };
    assert.deepEqual(Object.keys(printed), ['id', 'duplicate']);
    assert.equal(printed.duplicate, false);
    assert.ok(Number.isInteger(printed.id) && printed.id > 0, r.stdout);
    const [claimed] = await store.queue.claim({ owner: 'json-test', queues: ['json-q'], limit: 1 });
    assert.deepEqual([claimed?.id, claimed?.retryAfterMs, claimed?.timeoutMs, claimed?.priority], [printed.id, 90_000, 120_000, -7]);
    const plain = await cli(['dispatch', 'Ok', '--queue', 'json-q']);
    assert.match(plain.stdout, /^\d+\n$/, 'without --json: the bare id, as before');
  });

  test('dispatch refuses a --timeout of 0 and a --retry-after it cannot read, naming the option', { timeout: 45_000 }, async () => {
    const [zero, bananas] = await Promise.all([cli(['dispatch', 'Ok', '--timeout', '0']), cli(['dispatch', 'Ok', '--retry-after', '+3 bananas'])]);
    assert.notEqual(zero!.code, 0);
    assert.match(zero!.stderr, /--timeout must be at least 1 ms, got '0'/);
    assert.notEqual(bananas!.code, 0);
    assert.match(bananas!.stderr, /--retry-after '\+3 bananas'/);
    assert.equal(zero!.stdout + bananas!.stdout, '', 'nothing dispatched');
  });

  test('migrate --json and create:job --json print what they did', { timeout: 45_000 }, async () => {
    const migrate = await cli(['migrate', '--json']);
    assert.equal(migrate.code, 0, migrate.stderr);
    const report = JSON.parse(migrate.stdout) as { store: string; statements: string[]; notices: string[] };
    assert.deepEqual([report.store.startsWith('sqlite:'), report.statements, report.notices], [true, [], []]);
    const created = await runCli(['create:job', 'tools/Export', '--dir', join(app.dir, 'jobs'), '--json'], { cwd: app.dir });
    assert.equal(created.code, 0, created.stderr);
    assert.deepEqual(JSON.parse(created.stdout), { file: join(app.dir, 'jobs', 'tools', 'Export.ts'), handler: 'tools/Export' });
  });

  test('start --json: the start and stop events carry fields, not only prose', { timeout: 60_000 }, async () => {
    await store.producer.enqueue({
      jobs: ['Ok', 'Ok', 'FailsPermanently'].map((handler) => ({
        handler,
        queue: 'json-run',
        payload: '{}',
        delayMs: 0,
        maxAttempts: 1,
        retryAfterMs: 0,
        timeoutMs: null,
      })),
    });
    const r = await cli(['start', '--json', '--procs', '2', '--concurrency', '3', '--queue', 'json-run', '--stop-when-empty']);
    assert.equal(r.code, 0, r.stderr);
    const events = lines(r.stdout).map((l) => JSON.parse(l) as Record<string, unknown>);
    const started = events.find((e) => e.event === 'started');
    assert.ok(started, `a started event: ${r.stdout}`);
    assert.equal(typeof started.version, 'string');
    assert.match(String(started.store), /^sqlite:/);
    assert.deepEqual([started.queues, started.threads, started.concurrency], [['json-run'], 2, 3]);
    assert.equal(started.jobsDir, JOBS_DIR);
    assert.ok(Number.isInteger(started.pid) && typeof started.runtimeId === 'string', JSON.stringify(started));
    const stopped = events.find((e) => e.event === 'stopped');
    assert.ok(stopped, `a stopped event: ${r.stdout}`);
    assert.deepEqual([stopped.completed, stopped.failed, stopped.retried, stopped.givenBack, stopped.exitCode], [2, 1, 0, 0, 0], JSON.stringify(stopped));
    assert.equal(events.filter((e) => e.event === 'info' && /started|stopped/.test(String(e.message))).length, 0, 'neither is a prose info event');
  });
});
