// The package as an application installs it: from a tarball made by `npm pack`, and from the
// local path of a fresh git clone. Real npm, offline where its cache allows (--prefer-offline);
// every npm runs in its own process group, killed whole if it outlives its limit.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';

const PACKAGE_DIR = fileURLToPath(new URL('..', import.meta.url));
const VERSION = (JSON.parse(readFileSync(join(PACKAGE_DIR, 'package.json'), 'utf8')) as { version: string }).version;
const NPM_FLAGS = ['--prefer-offline', '--no-audit', '--no-fund'];
const groups = new Set<number>();

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command with a clean npm environment (none of the npm running this test's settings). */
function run(command: string, args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs: number }): Promise<Result> {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));
  const child = spawn(command, args, { cwd: options.cwd, env: { ...env, NO_COLOR: '1', ...options.env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  groups.add(child.pid!);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => killGroup(child.pid!), options.timeoutMs);
  return new Promise((resolve) => {
    child.on('close', (code) => {
      clearTimeout(timer);
      groups.delete(child.pid!);
      resolve({ code, stdout, stderr });
    });
  });
}

function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

after(() => {
  for (const pid of groups) killGroup(pid);
});

/** A new app as `npm init -y` makes it (CommonJS), with a script that dispatches one job. */
function createApp(dir: string): void {
  mkdirSync(join(dir, 'jobs'), { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', private: true }));
  writeFileSync(
    join(dir, 'dispatch.mjs'),
    `import { Job } from 'jobs-runtime';
class Greet extends Job {
  async run(payload) { console.log(\`ran job \${this.context.id}: hello \${payload.to}\`); }
}
try {
  console.log(\`dispatched \${await new Greet().dispatch({ to: 'bob' })}\`);
} catch (e) {
  console.log(\`\${e.name}: \${e.message}\`);
}
`,
  );
  writeFileSync(
    join(dir, 'jobs', 'Greet.ts'),
    `import { Job } from 'jobs-runtime';\nexport default class Greet extends Job<{ to: string }> {\n  async run() {}\n}\n`,
  );
}

describe('packaging: npm pack, then npm install <tarball> in a new app', () => {
  let tmp: string;
  let app: string;
  let tarball: string;
  let install: Result;

  before(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'jr-pack-'));
    app = join(tmp, 'app');
    // npm pack runs `prepare`, which builds dist/ with the dev dependencies of this checkout.
    const pack = await run('npm', ['pack', '--pack-destination', tmp, ...NPM_FLAGS], { cwd: PACKAGE_DIR, timeoutMs: 120_000 });
    assert.equal(pack.code, 0, pack.stderr);
    tarball = join(tmp, pack.stdout.trim().split('\n').pop()!);
    createApp(app);
    install = await run('npm', ['install', ...NPM_FLAGS, tarball], { cwd: app, timeoutMs: 180_000 });
  });
  after(() => rmSync(tmp, { recursive: true, force: true }));

  test('the tarball holds the built code and its types, not the sources or tests', async () => {
    const list = await run('tar', ['tzf', tarball], { cwd: tmp, timeoutMs: 30_000 });
    const files = list.stdout.split('\n');
    for (const f of ['bin/jobs-runtime', 'dist/src/index.js', 'dist/src/index.d.ts', 'dist/src/cli/main.js', 'dist/workers/job-thread.js', 'README.md']) {
      assert.ok(files.includes(`package/${f}`), `${f} is in the tarball`);
    }
    assert.deepEqual(
      files.filter((f) => /^package\/(src|test|scripts)\//.test(f)),
      [],
    );
  });

  test('it installs without better-sqlite3 (nothing to compile for an app on MySQL or Redis)', () => {
    assert.equal(install.code, 0, install.stderr);
    assert.ok(existsSync(join(app, 'node_modules', 'jobs-runtime', 'dist', 'src', 'index.js')));
    assert.ok(!existsSync(join(app, 'node_modules', 'better-sqlite3')), 'better-sqlite3 is not installed');
  });

  test('npx jobs-runtime --version prints the version', async () => {
    const r = await run('npx', ['--no', '--', 'jobs-runtime', '--version'], { cwd: app, timeoutMs: 30_000 });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `${VERSION}\n`);
  });

  test('a job dispatched with JOBS_DATABASE_URL=sync: runs in the app', async () => {
    const r = await run(process.execPath, ['dispatch.mjs'], { cwd: app, env: { JOBS_DATABASE_URL: 'sync:' }, timeoutMs: 30_000 });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'ran job 1: hello bob\ndispatched 1\n');
  });

  test('the default SQLite store without better-sqlite3: dispatch and start say what to install', async () => {
    const hint = /The SQLite store needs the package better-sqlite3, which is not installed: run `npm install better-sqlite3` in your application/;
    const dispatch = await run(process.execPath, ['dispatch.mjs'], { cwd: app, timeoutMs: 30_000 });
    assert.match(dispatch.stdout, /^StoreUnavailableError: /);
    assert.match(dispatch.stdout, hint);
    const start = await run('npx', ['--no', '--', 'jobs-runtime', 'start', '--procs', '1', '--stop-when-empty'], { cwd: app, timeoutMs: 30_000 });
    assert.equal(start.code, 1, start.stderr);
    assert.match(start.stderr, hint);
    assert.doesNotMatch(start.stderr, /\n\s+at /, 'no stack trace');
    assert.ok(!existsSync(join(app, '.jobs')), 'nothing was created');
  });

  test('once the app installs better-sqlite3, the default store works', async () => {
    // This checkout's copy, already built, linked with --ignore-scripts: npm would otherwise
    // rebuild it in place (minutes, in this checkout). The test compiles nothing.
    const add = await run('npm', ['install', ...NPM_FLAGS, '--ignore-scripts', join(PACKAGE_DIR, 'node_modules', 'better-sqlite3')], {
      cwd: app,
      timeoutMs: 60_000,
    });
    assert.equal(add.code, 0, add.stderr);
    const dispatch = await run(process.execPath, ['dispatch.mjs'], { cwd: app, timeoutMs: 30_000 });
    assert.equal(dispatch.stdout, 'dispatched 1\n', dispatch.stderr);
    const start = await run('npx', ['--no', '--', 'jobs-runtime', 'start', '--procs', '1', '--stop-when-empty'], { cwd: app, timeoutMs: 60_000 });
    assert.equal(start.code, 0, start.stderr);
    assert.match(start.stdout, /✔ Job processed successfully: 1 \(Greet, /);
  });
});

describe('packaging: npm install <path of a fresh git clone>', () => {
  let tmp: string;
  let app: string;
  let install: Result;

  before(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'jr-clone-'));
    app = join(tmp, 'app');
    // The committed HEAD of this checkout: what a user clones.
    const clone = await run('git', ['clone', '--quiet', PACKAGE_DIR, join(tmp, 'jobs-runtime')], { cwd: tmp, timeoutMs: 60_000 });
    assert.equal(clone.code, 0, clone.stderr);
    createApp(app);
    // npm links the folder without installing its dependencies; its `prepare` runs npm ci there
    // (compiling better-sqlite3 where no prebuilt binary can be fetched: most of this test's time).
    install = await run('npm', ['install', ...NPM_FLAGS, '../jobs-runtime'], { cwd: app, timeoutMs: 420_000 });
  });
  after(() => rmSync(tmp, { recursive: true, force: true }));

  test('it installs (was: sh: 1: tsc: not found): the clone gets its dependencies and dist/', () => {
    assert.equal(install.code, 0, `${install.stdout}${install.stderr}`);
    assert.ok(existsSync(join(tmp, 'jobs-runtime', 'node_modules', 'commander')), "the clone's dependencies are installed");
    assert.ok(existsSync(join(tmp, 'jobs-runtime', 'dist', 'src', 'index.js')), 'dist/ is built');
  });

  test('npx jobs-runtime --version and a sync: dispatch work from the linked clone', async () => {
    const version = await run('npx', ['--no', '--', 'jobs-runtime', '--version'], { cwd: app, timeoutMs: 30_000 });
    assert.equal(version.stdout, `${VERSION}\n`, version.stderr);
    const r = await run(process.execPath, ['dispatch.mjs'], { cwd: app, env: { JOBS_DATABASE_URL: 'sync:' }, timeoutMs: 30_000 });
    assert.equal(r.stdout, 'ran job 1: hello bob\ndispatched 1\n', r.stderr);
  });
});
