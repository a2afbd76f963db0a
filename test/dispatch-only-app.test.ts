// A web process that only dispatches must be left exactly as it was: no loader registered, no
// process.env written, nothing loaded beyond the package's small API and the one store driver
// in use, even with a jobs.config.ts and a .env in its working directory.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const FIXTURE = fileURLToPath(new URL('./fixtures/dispatch-only-app', import.meta.url));
/** Modules a dispatching process must never load. */
const HEAVY = ['piscina', 'tsx', 'esbuild', 'prom-client', 'commander', 'chalk', 'pidusage', '/runtime/', '/cli/', 'ioredis', 'mysql2'];

interface Report {
  envUnchanged: boolean;
  id: number | null;
  error: string | null;
  tsImport: string;
}

let dir: string;

/** Runs app.mjs in `dir` as plain node, with a clean environment; returns its report and what it loaded. */
function runApp(args: string[] = []): Promise<{ report: Report; loads: string[] }> {
  const loadsFile = join(dir, `loads-${Date.now()}-${Math.random()}.txt`);
  writeFileSync(loadsFile, '');
  const env = { PATH: process.env.PATH ?? '', HOME: dir, LOADS_FILE: loadsFile, JOBS_WAKE: '0' };
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--import', './record-loads.mjs', 'app.mjs', ...args], { cwd: dir, env, timeout: 30_000 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`app.mjs failed: ${err.message}\n${stdout}\n${stderr}`));
      const loads = readFileSync(loadsFile, 'utf8').split('\n').filter(Boolean);
      resolve({ report: JSON.parse(stdout.trim().split('\n').pop()!) as Report, loads });
    });
  });
}

function rows(file: string): Array<{ handler: string; queue: string; payload: string }> {
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare<[], { handler: string; queue: string; payload: string }>('SELECT handler, queue, payload FROM jobs ORDER BY id').all();
  } finally {
    db.close();
  }
}

describe('an application that only dispatches', () => {
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'jr-dispatch-only-'));
    cpSync(FIXTURE, dir, { recursive: true });
    // The app imports the package by its name, as an installed dependency.
    mkdirSync(join(dir, 'node_modules'));
    symlinkSync(REPO, join(dir, 'node_modules', 'jobs-runtime'));
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'web-app', type: 'module', private: true }));
    // A config file only a TypeScript loader can import; the runtime's CLI reads it.
    writeFileSync(join(dir, 'jobs.config.ts'), `const url: string = 'sqlite:./from-config.sqlite';\nexport default { databaseUrl: url };\n`);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('with .env and jobs.config.ts: dispatches to the .env store, leaves process.env and the loaders alone, loads nothing heavy', async () => {
    writeFileSync(join(dir, '.env'), `JOBS_DATABASE_URL=sqlite:${join(dir, 'from-env.sqlite')}\nAPP_SECRET=from-dotenv\n`);
    try {
      const { report, loads } = await runApp();
      assert.equal(report.error, null);
      assert.equal(report.id, 1);
      assert.equal(report.envUnchanged, true, 'process.env is the same before and after dispatching (.env was read, not applied)');
      assert.equal(report.tsImport, 'ERR_UNKNOWN_FILE_EXTENSION', 'no TypeScript loader was registered in the process');
      assert.deepEqual(rows(join(dir, 'from-env.sqlite')), [{ handler: 'SendMail', queue: 'emails', payload: '{"to":"bob@example.com"}' }]);
      const heavy = loads.filter((url) => HEAVY.some((h) => url.includes(h)));
      assert.deepEqual(heavy, [], `modules a dispatching process must not load:\n${heavy.join('\n')}`);
      assert.ok(
        loads.some((url) => url.includes('better-sqlite3')),
        'the one driver in use is loaded (the recorder sees imports)',
      );
    } finally {
      rmSync(join(dir, '.env'));
    }
  });

  test('with only jobs.config.ts, plain node: the dispatch names the file and the fixes, and configure() is one', async () => {
    const refused = await runApp();
    assert.equal(refused.report.id, null);
    assert.match(refused.report.error ?? '', /jobs\.config\.ts: this process has no TypeScript loader.*configure\(\{ databaseUrl \}\)/);
    assert.equal(refused.report.tsImport, 'ERR_UNKNOWN_FILE_EXTENSION');

    const file = join(dir, 'configured.sqlite');
    const configured = await runApp([`sqlite:${file}`]);
    assert.equal(configured.report.error, null);
    assert.equal(configured.report.id, 1);
    assert.equal(rows(file).length, 1);
  });
});
