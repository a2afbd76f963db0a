// The command line as a user meets it: help, create:job, dispatch, migrate, start's refusal of
// an un-migrated MySQL database, and an application script that only dispatches.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { killAll, parseJobLines, runCli } from './helpers/cli.ts';
import { createMysqlDatabase, type TestDatabase } from './helpers/mysql.ts';
import { JOBS_DIR } from './helpers/e2e.ts';

const PACKAGE_DIR = fileURLToPath(new URL('..', import.meta.url));
const TSC = join(PACKAGE_DIR, 'node_modules', '.bin', 'tsc');

after(() => killAll());

describe('cli: --help', () => {
  const expected: Record<string, string[]> = {
    start: [
      '--procs',
      '--concurrency',
      '--queue',
      '--sleep',
      '--batch',
      '--timeout',
      '--grace',
      '--max-memory-mb',
      '--stop-when-empty',
      '--keep-completed',
      '--log',
      '--quiet',
      '--json',
      '--database-url',
      '--jobs-dir',
    ],
    'process:jobs': ['--procs', '--queue', '--sleep', '--stop-when-empty', '--quiet', '--json', '--database-url', '--jobs-dir'],
    migrate: ['--print', '--database-url'],
    'create:job': ['--dir', '--force'],
    dispatch: ['--payload', '--queue', '--delay', '--attempts', '--database-url', '--jobs-dir'],
    dashboard: ['--port', '--host', '--read-only', '--base-path', '--token', '--database-url'],
  };

  test('every command documents its options', { timeout: 45_000 }, async () => {
    const names = Object.keys(expected);
    const results = await Promise.all(names.map((cmd) => runCli([cmd, '--help'], { timeoutMs: 20_000 })));
    results.forEach((r, i) => {
      const cmd = names[i]!;
      assert.equal(r.code, 0, `${cmd} --help exits 0: ${r.stderr}`);
      assert.match(r.stdout, new RegExp(`Usage: jobs-runtime ${cmd}`), `${cmd} --help shows its usage`);
      for (const opt of expected[cmd]!) assert.ok(r.stdout.includes(opt), `${cmd} --help mentions ${opt}:\n${r.stdout}`);
    });
  });

  test('the top-level help lists the commands', { timeout: 45_000 }, async () => {
    const r = await runCli(['--help'], { timeoutMs: 20_000 });
    assert.equal(r.code, 0);
    for (const cmd of Object.keys(expected)) assert.ok(r.stdout.includes(cmd), `--help lists ${cmd}`);
  });
});

describe('cli: create:job and dispatch (SQLite)', () => {
  let app: string;
  let jobsDir: string;
  let dbUrl: string;
  const cli = (args: string[]) => runCli(args, { cwd: app, timeoutMs: 20_000 });

  before(() => {
    // A stand-alone app: 'jobs-runtime' resolves through its node_modules, as after npm install.
    app = mkdtempSync(join(tmpdir(), 'jr-cli-'));
    mkdirSync(join(app, 'node_modules'));
    symlinkSync(PACKAGE_DIR, join(app, 'node_modules', 'jobs-runtime'), 'dir');
    jobsDir = join(app, 'jobs');
    dbUrl = `sqlite:${join(app, 'j.sqlite')}`;
  });
  after(() => rmSync(app, { recursive: true, force: true }));

  test('create:job SendMail creates the file; again fails without --force, succeeds with it', { timeout: 45_000 }, async () => {
    const first = await cli(['create:job', 'SendMail', '--dir', jobsDir]);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /✔ Job created: .*jobs\/SendMail\.ts/);
    const file = join(jobsDir, 'SendMail.ts');
    assert.ok(existsSync(file));
    assert.match(readFileSync(file, 'utf8'), /export default class SendMail extends Job/);

    writeFileSync(file, `${readFileSync(file, 'utf8')}// edited by hand\n`);
    const again = await cli(['create:job', 'SendMail', '--dir', jobsDir]);
    assert.notEqual(again.code, 0);
    assert.match(again.stderr, /already exists/);
    assert.match(again.stderr, /--force/);
    assert.match(readFileSync(file, 'utf8'), /edited by hand/, 'the existing file is left alone');

    const forced = await cli(['create:job', 'SendMail', '--dir', jobsDir, '--force']);
    assert.equal(forced.code, 0, forced.stderr);
    assert.match(forced.stdout, /✔ Job created:/);
    assert.doesNotMatch(readFileSync(file, 'utf8'), /edited by hand/, '--force overwrites it');
  });

  test("create:job refuses names that are not identifiers: '../x', '1abc', 'a-b'", { timeout: 45_000 }, async () => {
    const names = ['../x', '1abc', 'a-b'];
    const results = await Promise.all(names.map((n) => cli(['create:job', n, '--dir', jobsDir])));
    results.forEach((r, i) => {
      assert.notEqual(r.code, 0, `${names[i]} is refused`);
      assert.match(r.stderr, /Invalid job handler name/, names[i]);
      assert.ok(r.stderr.includes(`'${names[i]}'`), `the message names ${names[i]}`);
      assert.doesNotMatch(r.stdout, /Job created/);
    });
    assert.ok(!existsSync(join(app, 'x.ts')), "'../x' wrote nothing outside the jobs directory");
    assert.ok(!existsSync(join(jobsDir, '1abc.ts')) && !existsSync(join(jobsDir, 'a-b.ts')));
  });

  test('the created job type-checks under strict TypeScript', { timeout: 45_000 }, () => {
    writeFileSync(
      join(app, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, skipLibCheck: true, types: [] },
        include: ['jobs/**/*.ts'],
      }),
    );
    const r = spawnSync(TSC, ['-p', app], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(r.status, 0, `tsc: ${r.stdout}${r.stderr}`);
  });

  test('the created job dispatches (prints a numeric id) and start --stop-when-empty runs it', { timeout: 45_000 }, async () => {
    const d = await cli(['dispatch', 'SendMail', '--jobs-dir', jobsDir, '--database-url', dbUrl, '--payload', '{"a":1}']);
    assert.equal(d.code, 0, d.stderr);
    assert.match(d.stdout, /^\d+\n$/);
    const id = Number(d.stdout.trim());
    const s = await runCli(['start', '--procs', '1', '--stop-when-empty', '--jobs-dir', jobsDir, '--database-url', dbUrl], { cwd: app, timeoutMs: 30_000 });
    assert.equal(s.code, 0, s.stderr);
    assert.deepEqual(parseJobLines(s.stdout).ok, [id]);
    assert.match(s.stdout, new RegExp(`✔ Job processed successfully: ${id} \\(SendMail, `));
  });

  test('dispatch errors: bad --payload JSON, unknown handler, --delay text it cannot read', { timeout: 45_000 }, async () => {
    const base = ['--jobs-dir', jobsDir, '--database-url', dbUrl];
    const [badJson, unknown, badDelay] = await Promise.all([
      cli(['dispatch', 'SendMail', ...base, '--payload', '{bad']),
      cli(['dispatch', 'Nope', ...base]),
      cli(['dispatch', 'SendMail', ...base, '--delay', '+30 bananas']),
    ]);
    assert.notEqual(badJson!.code, 0);
    assert.match(badJson!.stderr, /--payload/);
    assert.match(badJson!.stderr, /not valid JSON/);
    assert.notEqual(unknown!.code, 0);
    assert.match(unknown!.stderr, /Unknown job handler 'Nope'/);
    assert.notEqual(badDelay!.code, 0);
    assert.match(badDelay!.stderr, /--delay/);
    assert.ok(badDelay!.stderr.includes('+30 bananas'), `the message names the text: ${badDelay!.stderr}`);
    for (const r of [badJson!, unknown!, badDelay!]) assert.equal(r.stdout, '', 'no id is printed');
  });

  test('dispatch of an unknown handler is a user error: one line, no stack trace', { timeout: 45_000 }, async () => {
    const r = await cli(['dispatch', 'Nope', '--jobs-dir', jobsDir, '--database-url', dbUrl]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /Unknown job handler 'Nope'/);
    assert.doesNotMatch(r.stderr, /\n\s+at /, `a user error prints without a stack:\n${r.stderr}`);
  });
});

describe('cli: migrate, start and dispatching scripts (MySQL)', () => {
  let db: TestDatabase;
  let dir: string;
  const tableExists = async () =>
    Number(
      (
        await db.query<Array<{ n: number }>>('SELECT COUNT(*) AS n FROM INFORMATION_SCHEMA.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?', [db.name, 'jobs'])
      )[0]!.n,
    ) > 0;

  before(
    async () => {
      db = await createMysqlDatabase('cli');
      dir = mkdtempSync(join(tmpdir(), 'jr-cli-mysql-'));
    },
    { timeout: 30_000 },
  );
  after(
    async () => {
      killAll();
      await db?.drop();
      rmSync(dir, { recursive: true, force: true });
    },
    { timeout: 30_000 },
  );

  test('start against an un-migrated database exits non-zero telling to run migrate', { timeout: 45_000 }, async () => {
    const r = await runCli(['start', '--procs', '1', '--stop-when-empty', '--jobs-dir', JOBS_DIR, '--database-url', db.url], { cwd: dir, timeoutMs: 20_000 });
    assert.equal(r.signal, null, 'it exits by itself');
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /migrate/);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
    assert.equal(await tableExists(), false, 'start creates nothing');
  });

  test('migrate --print on a fresh database prints CREATE TABLE and changes nothing', { timeout: 45_000 }, async () => {
    const r = await runCli(['migrate', '--print', '--database-url', db.url], { cwd: dir, timeoutMs: 20_000 });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /CREATE TABLE/);
    assert.equal(await tableExists(), false, 'the table is still absent');
  });

  test('migrate creates the table; a second migrate says it is up to date', { timeout: 45_000 }, async () => {
    const first = await runCli(['migrate', '--database-url', db.url], { cwd: dir, timeoutMs: 20_000 });
    assert.equal(first.code, 0, first.stderr);
    assert.equal(await tableExists(), true);
    const second = await runCli(['migrate', '--database-url', db.url], { cwd: dir, timeoutMs: 20_000 });
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stdout, /up to date/);
    const print = await runCli(['migrate', '--print', '--database-url', db.url], { cwd: dir, timeoutMs: 20_000 });
    assert.equal(print.code, 0, print.stderr);
    assert.doesNotMatch(print.stdout, /CREATE TABLE|ALTER TABLE/);
  });

  test('a script that only dispatches exits by itself, and its job is stored', { timeout: 45_000 }, async () => {
    // Inside the package, so `import ... from 'jobs-runtime'` resolves by self-reference.
    const script = join(PACKAGE_DIR, 'test', `.dispatch-only-${process.pid}.mjs`);
    writeFileSync(
      script,
      `import { Job } from 'jobs-runtime';
class ScriptMail extends Job {
  attempts = 3;
  async run() {}
}
const id = await new ScriptMail().dispatch({ to: 'bob@example.com' });
console.log(id);
`,
    );
    try {
      const t0 = Date.now();
      const child = spawn(process.execPath, [script], {
        cwd: dir,
        env: { ...process.env, JOBS_DATABASE_URL: db.url },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      let err = '';
      child.stdout.on('data', (d: Buffer) => (out += d));
      child.stderr.on('data', (d: Buffer) => (err += d));
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.on('close', (c, s) => resolve([c, s])));
      clearTimeout(timer);
      const ms = Date.now() - t0;
      assert.equal(signal, null, `the script did not exit by itself within 5 s (stdout: ${out}, stderr: ${err})`);
      assert.equal(code, 0, err);
      assert.ok(ms < 5_000, `exited after ${ms} ms`);
      assert.match(out, /^\d+\n$/);
      const rows = await db.query<Array<{ handler: string; payload: string; status: string; max_attempts: number }>>(
        'SELECT handler, payload, status, max_attempts FROM jobs WHERE id = ?',
        [Number(out.trim())],
      );
      assert.equal(rows.length, 1, 'the row exists');
      assert.equal(rows[0]!.handler, 'ScriptMail');
      assert.deepEqual(JSON.parse(rows[0]!.payload), { to: 'bob@example.com' });
      assert.equal(rows[0]!.status, 'new');
      assert.equal(Number(rows[0]!.max_attempts), 3);
    } finally {
      rmSync(script, { force: true });
    }
  });
});
