// create:job as a newcomer uses it: a job in a sub-folder carries the `static handler` it needs
// (so its runs find it), a job stored under a sub-folder class's bare name fails with a hint at
// that line, and the generated file type-checks under strict + noImplicitOverride + nodenext.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { openStore } from '../src/stores/open-store.ts';
import type { JobStore, NewJob } from '../src/stores/store.ts';
import { killAll, parseJobLines, runCli } from './helpers/cli.ts';

const PACKAGE_DIR = fileURLToPath(new URL('..', import.meta.url));
const TSC = join(PACKAGE_DIR, 'node_modules', '.bin', 'tsc');

after(() => killAll());

describe('cli: create:job for a job in a sub-folder (SQLite)', () => {
  let app: string;
  let jobsDir: string;
  let dbUrl: string;
  let store: JobStore;
  const cli = (args: string[]) => runCli(args, { cwd: app, timeoutMs: 30_000 });
  const start = () => cli(['start', '--procs', '1', '--stop-when-empty', '--jobs-dir', jobsDir, '--database-url', dbUrl]);
  /** The row `new Class().dispatch()` would store, from the class in `file`. */
  const rowOf = async (file: string): Promise<NewJob> => {
    const mod = (await import(pathToFileURL(file).href)) as { default: new () => { toNewJob(p: unknown): NewJob } };
    return new mod.default().toNewJob({});
  };

  before(async () => {
    // A stand-alone app: 'jobs-runtime' resolves through its node_modules, as after npm install.
    app = mkdtempSync(join(tmpdir(), 'jr-create-job-'));
    mkdirSync(join(app, 'node_modules'));
    symlinkSync(PACKAGE_DIR, join(app, 'node_modules', 'jobs-runtime'), 'dir');
    jobsDir = join(app, 'jobs');
    dbUrl = `sqlite:${join(app, 'j.sqlite')}`;
    store = await openStore(dbUrl);
    await store.admin.migrate({});
  });
  after(async () => {
    await store?.close();
    rmSync(app, { recursive: true, force: true });
  });

  test('create:job mail/Welcome writes its static handler, so the job it dispatches runs', { timeout: 60_000 }, async () => {
    const created = await cli(['create:job', 'mail/Welcome', '--dir', jobsDir]);
    assert.equal(created.code, 0, created.stderr);
    assert.equal(created.stdout, '✔ Job created: ./jobs/mail/Welcome.ts\n', 'the same ✔ as every other command');
    const file = join(jobsDir, 'mail', 'Welcome.ts');
    assert.match(readFileSync(file, 'utf8'), /static override handler = 'mail\/Welcome';/);
    const row = await rowOf(file);
    assert.equal(row.handler, 'mail/Welcome', 'dispatch stores the path, not the class name');
    const [id] = await store.producer.enqueue({ jobs: [row] });
    const run = await start();
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(parseJobLines(run.stdout).ok, [id]);
    assert.equal(parseJobLines(run.stderr).failed.length, 0, run.stderr);
  });

  test('create:job of a top-level job writes no static handler (the class name is its handler)', { timeout: 30_000 }, async () => {
    const created = await cli(['create:job', 'SendMail', '--dir', jobsDir]);
    assert.equal(created.code, 0, created.stderr);
    assert.doesNotMatch(readFileSync(join(jobsDir, 'SendMail.ts'), 'utf8'), /static/);
  });

  test("a job stored under a sub-folder class's bare name fails with a hint at the static handler it needs", { timeout: 60_000 }, async () => {
    const file = join(jobsDir, 'billing', 'Invoice.ts');
    mkdirSync(join(jobsDir, 'billing'), { recursive: true });
    writeFileSync(file, "import { Job } from 'jobs-runtime';\nexport default class Invoice extends Job {\n  async run() {}\n}\n");
    const row = await rowOf(file);
    assert.equal(row.handler, 'Invoice', 'without static handler the class name is stored');
    const [id] = await store.producer.enqueue({ jobs: [row] });
    const run = await start();
    assert.equal(run.code, 0, run.stderr);
    const failed = parseJobLines(run.stderr).failed;
    assert.deepEqual(
      failed.map((f) => f.id),
      [id],
    );
    assert.match(failed[0]!.message, /^Unknown job handler 'Invoice': no file Invoice/);
    assert.ok(
      failed[0]!.message.includes("billing/Invoice holds class Invoice: a job in a sub-folder needs `static handler = 'billing/Invoice'`"),
      `the message names the file and the line to add: ${failed[0]!.message}`,
    );
  });

  test('the created jobs type-check under strict, noImplicitOverride and module nodenext', { timeout: 60_000 }, () => {
    const typed = mkdtempSync(join(tmpdir(), 'jr-create-job-tsc-'));
    try {
      mkdirSync(join(typed, 'node_modules'));
      symlinkSync(PACKAGE_DIR, join(typed, 'node_modules', 'jobs-runtime'), 'dir');
      writeFileSync(join(typed, 'package.json'), JSON.stringify({ name: 'typed-app', private: true, type: 'module' }));
      const compilerOptions = {
        target: 'ES2022',
        module: 'nodenext',
        moduleResolution: 'nodenext',
        strict: true,
        noImplicitOverride: true,
        noEmit: true,
        skipLibCheck: true,
        types: [],
      };
      writeFileSync(join(typed, 'tsconfig.json'), JSON.stringify({ compilerOptions, include: ['jobs/**/*.ts'] }));
      for (const name of ['SendMail', 'mail/Welcome']) {
        const r = spawnSync(process.execPath, [join(PACKAGE_DIR, 'bin', 'jobs-runtime'), 'create:job', name, '--dir', join(typed, 'jobs')], {
          encoding: 'utf8',
          timeout: 30_000,
        });
        assert.equal(r.status, 0, r.stderr);
      }
      const r = spawnSync(TSC, ['-p', typed], { encoding: 'utf8', timeout: 45_000 });
      assert.equal(r.status, 0, `tsc: ${r.stdout}${r.stderr}`);
    } finally {
      rmSync(typed, { recursive: true, force: true });
    }
  });
});
