import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { killAll, runCli, startCli } from './helpers/cli.ts';
import { createMysqlDatabase, type TestDatabase } from './helpers/mysql.ts';
import { waitFor } from './helpers/wait.ts';

// jobs-runtime and Lightpack's real PHP worker (`php console jobs:run`) on one MariaDB table:
// each case is one of issue 19's "What breaks". The PHP app comes from ../shared/lightpack's
// setup.sh (which installs php-cli and php-mysql when absent), as CI installs it.

const SETUP = process.env.LIGHTPACK_HARNESS ?? fileURLToPath(new URL('../../shared/lightpack/setup.sh', import.meta.url));
const JOBS = fileURLToPath(new URL('./fixtures/lightpack-jobs', import.meta.url));
const php: ChildProcess[] = [];
let db: TestDatabase;
let dir: string;
let app: string;
let record: string;
let nodeRecord: string;

function lp(args: string[]): string {
  return execFileSync('php', args, { cwd: app, env: { ...process.env, LP_RECORD: record }, encoding: 'utf8' });
}
/** `php dispatch.php Class payload`: Lightpack's own Job::dispatch(). */
function phpDispatch(cls: string, payload: string): void {
  lp(['dispatch.php', cls, payload]);
}
function phpWorker(queue: string): ChildProcess {
  const child = spawn('php', ['console', 'jobs:run', `--queue=${queue}`, '--sleep=1'], {
    cwd: app,
    env: { ...process.env, LP_RECORD: record },
    stdio: 'ignore',
  });
  php.push(child);
  return child;
}
function stopPhp(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}
const cli = (args: string[], timeoutMs = 30_000) =>
  runCli([...args, '--database-url', db.url, '--jobs-dir', JOBS], { cwd: dir, env: { NODE_RECORD: nodeRecord }, timeoutMs });
const rows = <T>(sql: string, params: unknown[] = []) => db.query<T[]>(sql, params);

describe('Lightpack (PHP) workers and jobs-runtime on one table', { timeout: 180_000 }, () => {
  before(async () => {
    db = await createMysqlDatabase('lightpack');
    dir = mkdtempSync(join(tmpdir(), 'jr-lightpack-'));
    record = join(dir, 'php-ran.log');
    nodeRecord = join(dir, 'node-ran.log');
    writeFileSync(record, '');
    writeFileSync(nodeRecord, '');
    execFileSync('bash', [SETUP, join(dir, 'lp')], { env: { ...process.env, LP_DB_NAME: db.name }, stdio: 'ignore', timeout: 300_000 });
    app = join(dir, 'lp', 'app');
    lp(['console', 'migrate:up']); // Lightpack's own jobs table
    const migrated = await cli(['migrate']);
    assert.equal(migrated.code, 0, migrated.stderr);
  });
  after(async () => {
    for (const c of php) await stopPhp(c);
    killAll();
    await db?.drop();
    if (dir && existsSync(dir)) rmSync(dir, { recursive: true, force: true });
  });

  test('start on all queues of a table holding PHP jobs, with no setting, refuses, naming the PHP queues and the two ways out', async () => {
    phpDispatch('SendMail', '{"to":"a@example.com"}');
    const r = await cli(['start', '--stop-when-empty']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /holds Lightpack \(PHP\) jobs on php \(1 job\(s\), e\.g\. App\\Jobs\\SendMail\)/);
    assert.match(r.stderr, /start --queue <names>.*"lightpack": \{ "queues": \["php"\] \}.*--lightpack-queues php/);
    assert.equal((await rows<{ status: string }>('SELECT status FROM jobs'))[0]!.status, 'new', 'the PHP job is untouched');
  });

  test('a runtime on all queues racing a live PHP worker on 200 PHP jobs loses none of them, and still runs its own', async () => {
    for (let i = 0; i < 199; i++) phpDispatch('SendMail', `{"to":"u${i}@example.com"}`);
    const ids = await Promise.all([1, 2, 3].map(async () => (await cli(['dispatch', 'NodeJob'])).stdout.trim()));
    const runtime = startCli(['start', '--lightpack-queues', 'php', '--procs', '2', '--sleep', '0.1', '--database-url', db.url, '--jobs-dir', JOBS], {
      cwd: dir,
      env: { NODE_RECORD: nodeRecord },
    });
    const worker = phpWorker('php');
    await waitFor('PHP to run its 200 jobs', async () => (await rows('SELECT id FROM jobs WHERE queue = ?', ['php'])).length === 0, 90_000, 200);
    await waitFor(
      'the Node jobs to run',
      () =>
        readFileSync(nodeRecord, 'utf8')
          .split('\n')
          .filter((l) => l.endsWith(' node')).length === 3,
      20_000,
    );
    runtime.child.kill('SIGTERM');
    const out = await runtime.done;
    await stopPhp(worker);
    assert.equal(
      readFileSync(record, 'utf8')
        .split('\n')
        .filter((l) => l.includes(' SendMail ')).length,
      200,
      'PHP ran each of its jobs',
    );
    assert.doesNotMatch(out.stderr, /✖/, 'the runtime failed no job');
    assert.match(out.stdout, /queues all but Lightpack's php/);
    assert.equal(ids.length, 3);
  });

  test('status shows the job a PHP worker runs, marks PHP queues; pause of a PHP queue is refused; dispatch to it too', async () => {
    phpDispatch('SlowJob', '{"n":1}');
    const worker = phpWorker('php');
    await waitFor('the PHP worker to take SlowJob', async () => (await rows("SELECT id FROM jobs WHERE status = 'queued'")).length === 1, 20_000, 100);
    const status = await cli(['status', '--lightpack-queues', 'php']);
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /QUEUED \(PHP\)/);
    assert.match(status.stdout, /^ {2}php +0 +0 +0 +0 +1 +0 .* PHP$/m);
    const pause = await cli(['pause', 'php', '--lightpack-queues', 'php']);
    assert.notEqual(pause.code, 0);
    assert.match(pause.stderr, /run by Lightpack's PHP workers .* which do not honour jobs-runtime's pauses/);
    const dispatched = await cli(['dispatch', 'NodeJob', '--queue', 'php', '--lightpack-queues', 'php']);
    assert.notEqual(dispatched.code, 0);
    assert.match(dispatched.stderr, /Queue 'php' is run by Lightpack's PHP workers .* would crash the PHP worker/);
    const requeue = await cli(['migrate', '--requeue-queued']);
    assert.notEqual(requeue.code, 0);
    assert.match(requeue.stderr, /--requeue-queued needs --queue <names>: a job in status 'queued' may be running in a PHP worker right now/);
    const started = await cli(['start', '--stop-when-empty', '--lightpack-queues', 'php']);
    assert.doesNotMatch(started.stderr, /requeue-queued/, 'start does not suggest it while a setting exists');
    assert.match(started.stderr, /Lightpack's PHP workers are running them/);
    await stopPhp(worker);
  });

  test("PHP's failed jobs: failed --handler takes the stored class name; prune --keep-failed leaves them", async () => {
    phpDispatch('ChargeCard', '{}');
    const worker = phpWorker('php');
    await waitFor('PHP to fail ChargeCard', async () => (await rows("SELECT id FROM jobs WHERE status = 'failed'")).length === 1, 20_000, 100);
    await stopPhp(worker);
    const failed = await cli(['failed', '--handler', 'App\\Jobs\\ChargeCard', '--json']);
    assert.equal(failed.code, 0, failed.stderr);
    assert.equal((JSON.parse(failed.stdout) as { total: number }).total, 1);
    await db.query("UPDATE jobs SET failed_at = UTC_TIMESTAMP() - INTERVAL 2 DAY WHERE status = 'failed'");
    const pruned = await cli(['prune', '--keep-failed', '1d', '--lightpack-queues', 'php']);
    assert.equal(pruned.code, 0, pruned.stderr);
    assert.equal((await rows("SELECT id FROM jobs WHERE status = 'failed'")).length, 1, "PHP's failed row is PHP's");
  });

  test('a mapped PHP class dispatched by PHP runs under jobs-runtime, payload [] as {}, attempts from the Node class', async () => {
    // Moving one class: its PHP queue becomes one jobs-runtime runs, and the class is mapped.
    const cls = join(app, 'app', 'Jobs', 'SendMail.php');
    writeFileSync(cls, readFileSync(cls, 'utf8').replace("$queue = 'php'", "$queue = 'node'"));
    writeFileSync(nodeRecord, '');
    phpDispatch('SendMail', '{"to":"bob@example.com"}');
    phpDispatch('SendMail', '{}');
    const [empty] = await rows<{ id: number; payload: string }>("SELECT id, payload FROM jobs WHERE handler = 'App\\\\Jobs\\\\SendMail' ORDER BY id DESC");
    assert.equal(empty!.payload, '[]', "Lightpack's json_encode of an empty payload");
    const r = await cli(['start', '--stop-when-empty', '--lightpack-queues', 'php', '--lightpack-map', 'SendMail=SendMail']);
    assert.equal(r.code, 0, r.stderr);
    const ran = readFileSync(nodeRecord, 'utf8');
    assert.match(ran, /^\d+ 1\/3 \{"to":"bob@example.com"\}$/m);
    assert.match(ran, new RegExp(`^${empty!.id} 3/3 \\{\\}$`, 'm'), 'the empty payload reached run() as {}, three attempts');
    const [row] = await rows<{ status: string; attempts: number; max_attempts: number }>('SELECT status, attempts, max_attempts FROM jobs WHERE id = ?', [
      empty!.id,
    ]);
    assert.deepEqual({ ...row }, { status: 'failed', attempts: 3, max_attempts: 3 });
  });

  test('migrate --from-timezone moves only waiting PHP rows, printing the plan; queues differing by case are listed', async () => {
    await db.query('DELETE FROM jobs');
    await db.query(
      `INSERT INTO jobs (handler, queue, payload, status, attempts, scheduled_at) VALUES
        ('App\\\\Jobs\\\\SendReminder', 'php', '[]', 'new', 0, '2030-01-01 15:30:00'),
        ('App\\\\Jobs\\\\SendReminder', 'php', '[]', 'failed', 1, '2030-01-01 15:30:00'),
        ('NodeJob', 'node', '{}', 'new', 0, '2030-01-01 15:30:00'),
        ('NodeJob', 'PHP', '{}', 'new', 0, '2030-01-01 15:30:00')`,
    );
    const r = await cli(['migrate', '--from-timezone', 'Asia/Kolkata', '--lightpack-queues', 'php']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Waiting PHP jobs whose due times were written in Asia\/Kolkata wall-clock time \(−5\.5 h\)/);
    assert.match(r.stdout, /^ {2}php: 1 job\(s\), due 2030-01-01 15:30:00 → 2030-01-01 10:00:00 \(UTC\)$/m);
    assert.match(r.stdout, /✔ Moved 1 waiting job\(s\) from Asia\/Kolkata wall-clock time to UTC/);
    assert.match(r.stderr, /Queues whose names differ only by case, now separate queues: PHP \(1\) \/ php \(2\)/);
    const times = await rows<{ status: string; queue: string; t: string }>(
      "SELECT status, queue, DATE_FORMAT(scheduled_at, '%H:%i') AS t FROM jobs ORDER BY id",
    );
    assert.deepEqual(
      times.map((t) => `${t.queue} ${t.status} ${t.t}`),
      ['php new 10:00', 'php failed 15:30', 'node new 15:30', 'PHP new 15:30'],
    );
  });
});
