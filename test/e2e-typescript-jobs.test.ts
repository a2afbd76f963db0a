// TypeScript job files as a user writes them, run by the real bin: compiled once by the master
// (not loaded with tsx in every thread), with stack traces naming the .ts file and line, edits
// picked up at the next start, one instance of a shared helper per thread, and the memory of a
// .js app.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, describe, test } from 'node:test';
import { killAll, parseJobLines, runCli } from './helpers/cli.ts';
import { createApp, type E2eApp, lines, type StoreKind } from './helpers/e2e.ts';
import { jobFor, layOutApp, settledRssMb, startRuntime, writeFiles } from './helpers/ts-app.ts';
import { waitFor } from './helpers/wait.ts';

after(() => killAll());

async function withTsApp(kind: StoreKind, suite: string, fn: (app: E2eApp, jobsDir: string) => Promise<void>): Promise<void> {
  const app = await createApp(kind, suite);
  try {
    await fn(app, layOutApp(app.dir));
  } finally {
    killAll();
    await app.close();
  }
}

/** `start --stop-when-empty` for the app; fails the test unless it exits 0. */
async function runOnce(app: E2eApp, jobsDir: string, extra: string[] = []): Promise<string> {
  const r = await runCli(['start', '--stop-when-empty', '--procs', '2', '--jobs-dir', jobsDir, '--database-url', app.url, ...extra], {
    cwd: app.dir,
    timeoutMs: 60_000,
  });
  assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
  return r.stdout + r.stderr;
}

const cacheDirs = (app: E2eApp) => readdirSync(join(app.dir, 'node_modules', '.cache', 'jobs-runtime')).filter((n) => /^[0-9a-f]{16}$/.test(n));

// Line 11 throws; types above it vanish when compiled, so a right line number needs the source map.
const FAILS_TS = `import { Job } from 'jobs-runtime';

interface Payload {
  reason: string;
}

type Unused = { a: number };

export default class Fails extends Job<Payload> {
  async run(payload: Payload): Promise<void> {
    throw new Error(\`failed: \${payload.reason}\`);
  }
}
`;

const BROKEN_TS = `import { Job } from 'jobs-runtime';
export default class Broken extends Job {
  async run(): Promise<void> {
    const x = ;
  }
}
`;

const OK_TS = `import { Job } from 'jobs-runtime';
export default class Fine extends Job {
  async run(): Promise<void> {}
}
`;

async function stackNamesTheTsLine(app: E2eApp, jobsDir: string): Promise<void> {
  writeFiles(jobsDir, { 'Fails.ts': FAILS_TS, 'Broken.ts': BROKEN_TS, 'Fine.ts': OK_TS });
  const [failsId, brokenId, fineId] = await app.store.producer.enqueue({ jobs: [jobFor('Fails', { reason: 'no mail' }), jobFor('Broken'), jobFor('Fine')] });
  const out = await runOnce(app, jobsDir);
  const fails = (await app.store.admin.getJob({ id: failsId! }))!;
  assert.equal(fails.status, 'failed');
  assert.match(fails.exception ?? '', /^Error: failed: no mail\n/);
  const top = (fails.exception ?? '').split('\n')[1] ?? '';
  assert.ok(top.includes(`${join(jobsDir, 'Fails.ts')}:11:`), `the stack's first frame is Fails.ts line 11: ${fails.exception}`);
  const failsLine = parseJobLines(out).failed.find((f) => f.id === failsId);
  assert.match(failsLine?.message ?? out, /\(Fails, attempt 1\/1, failed\) at (\S*\/)?Fails\.ts:11:\d+$/, 'the ✖ line says where it threw');
  // A file that does not compile fails its own jobs, saying where; the others run.
  const broken = parseJobLines(out).failed.find((f) => f.id === brokenId);
  assert.ok(broken, out);
  assert.match(broken.message, /Broken\.ts:4:\d+: Unexpected ";"/, 'the ✖ line names the file, line and error');
  assert.ok(
    lines(out).some((l) => l.includes('WARN') && l.includes('Broken.ts:4:')),
    'the start warns about it',
  );
  assert.deepEqual(parseJobLines(out).ok, [fineId]);
  assert.match(out, /Compiled 3 TypeScript job file\(s\) for the threads/);
}

describe('TypeScript job files, compiled once by the master: sqlite', () => {
  test('a throwing .ts job stores a stack naming the .ts file and line; a file that does not compile fails only its jobs', { timeout: 90_000 }, async () => {
    await withTsApp('sqlite', 'ts_stack', stackNamesTheTsLine);
  });

  test('an edited .ts job file runs its new code after a restart; an unchanged one reuses the cache', { timeout: 120_000 }, async () => {
    await withTsApp('sqlite', 'ts_edit', async (app, jobsDir) => {
      const out = join(app.dir, 'out.txt');
      const version = (v: string) =>
        `import { Job } from 'jobs-runtime';\nimport { appendFileSync } from 'node:fs';\nimport { suffix } from '../lib/suffix.js';\nexport default class Version extends Job<{ out: string }> {\n  async run(p: { out: string }): Promise<void> {\n    appendFileSync(p.out, \`${v}\${suffix}\\n\`);\n  }\n}\n`;
      const suffix = (text: string) => ({ 'lib/suffix.ts': `export const suffix: string = '${text}';\n` });
      const runVersion = async () => {
        await app.store.producer.enqueue({ jobs: [jobFor('Version', { out })] });
        const log = await runOnce(app, jobsDir);
        return { log, last: readFileSync(out, 'utf8').trim().split('\n').at(-1) };
      };
      writeFiles(jobsDir, { 'Version.ts': version('v1') });
      writeFiles(app.dir, suffix(''));
      const first = await runVersion();
      assert.equal(first.last, 'v1');
      assert.match(first.log, /for the threads in \d+ ms \(new in /);
      const second = await runVersion();
      assert.equal(second.last, 'v1');
      assert.match(second.log, /unchanged since .*: not compiled again/, 'same content: the same cache directory, no compiler run');
      assert.doesNotMatch(second.log, /Compiled/);
      assert.equal(cacheDirs(app).length, 1);
      // What another runtime left: a directory unused for 4 days, a write it died in 2 hours ago.
      const root = join(app.dir, 'node_modules', '.cache', 'jobs-runtime');
      const daysAgo = (dir: string, hours: number) => {
        mkdirSync(dir);
        const then = new Date(Date.now() - hours * 3600_000);
        utimesSync(dir, then, then);
      };
      daysAgo(join(root, '0123456789abcdef'), 96);
      daysAgo(join(root, '.tmp-dead'), 2);
      writeFiles(jobsDir, { 'Version.ts': version('v2') });
      const third = await runVersion();
      assert.equal(third.last, 'v2', 'the edited file runs');
      assert.match(third.log, /\(new in /);
      assert.equal(cacheDirs(app).length, 2, "v1's directory stays (a peer may still run it); the stale one is pruned");
      assert.deepEqual(
        readdirSync(root).filter((n) => n.startsWith('.')),
        [],
        'no leftover of a dead write',
      );
      // An edit of a helper alone is an edit too.
      writeFiles(app.dir, suffix('+helper'));
      assert.equal((await runVersion()).last, 'v2+helper');
    });
  });

  test('a helper imported by several .ts jobs (by path and by tsconfig alias) is one module per thread; import.meta.url names the source', {
    timeout: 90_000,
  }, async () => {
    await withTsApp('sqlite', 'ts_shared', async (app, jobsDir) => {
      const out = join(app.dir, 'out.txt');
      const record = (name: string, from: string) =>
        `import { Job } from 'jobs-runtime';\nimport { appendFileSync } from 'node:fs';\nimport { threadId } from 'node:worker_threads';\nimport { instance } from '${from}';\nexport default class ${name} extends Job<{ out: string }> {\n  async run(p: { out: string }): Promise<void> {\n    appendFileSync(p.out, \`\${threadId} ${name} \${instance} \${import.meta.url}\\n\`);\n  }\n}\n`;
      writeFiles(app.dir, {
        'tsconfig.json': JSON.stringify({ compilerOptions: { baseUrl: '.', paths: { '@lib/*': ['lib/*'] } } }),
        'lib/instance.ts': `import { randomUUID } from 'node:crypto';\nexport const instance: string = randomUUID();\n`,
        'jobs/UsesA.ts': record('UsesA', '../lib/instance.js'),
        'jobs/UsesB.ts': record('UsesB', '@lib/instance'),
        'jobs/nested/UsesC.ts': record('UsesC', '../../lib/instance.ts'),
        'jobs/Legacy.cts': `import { appendFileSync } from 'node:fs';\nexport default class Legacy {\n  async run(p: { out: string }): Promise<void> {\n    appendFileSync(p.out, \`cjs \${__filename} \${typeof require}\\n\`);\n  }\n}\n`,
      });
      const handlers = ['UsesA', 'UsesB', 'nested/UsesC'];
      await app.store.producer.enqueue({ jobs: [...Array.from({ length: 30 }, (_, i) => jobFor(handlers[i % 3]!, { out })), jobFor('Legacy', { out })] });
      const log = await runOnce(app, jobsDir);
      assert.equal(parseJobLines(log).ok.length, 31, log);
      const rows = readFileSync(out, 'utf8').trim().split('\n');
      assert.deepEqual(
        rows.filter((r) => r.startsWith('cjs ')),
        [`cjs ${join(jobsDir, 'Legacy.cts')} function`],
        'a .cts job stays CommonJS, __filename its source',
      );
      const byThread = new Map<string, Set<string>>();
      for (const [thread, name, instance, url] of rows.filter((r) => !r.startsWith('cjs ')).map((r) => r.split(' '))) {
        byThread.set(thread!, (byThread.get(thread!) ?? new Set()).add(instance!));
        const file = name === 'UsesC' ? join(jobsDir, 'nested', 'UsesC.ts') : join(jobsDir, `${name}.ts`);
        assert.equal(url, pathToFileURL(file).href, 'import.meta.url is the .ts file');
      }
      for (const [thread, instances] of byThread) assert.equal(instances.size, 1, `thread ${thread}: one helper instance for all three jobs`);
    });
  });

  test('a .ts job file added after the start runs (loaded with tsx in the thread)', { timeout: 90_000 }, async () => {
    await withTsApp('sqlite', 'ts_late', async (app, jobsDir) => {
      writeFiles(jobsDir, { 'Fine.ts': OK_TS });
      const runtime = await startRuntime(['--procs', '1', '--jobs-dir', jobsDir, '--database-url', app.url], app.dir);
      writeFiles(jobsDir, { 'Late.ts': OK_TS.replace('class Fine', 'class Late') });
      const [lateId] = await app.store.producer.enqueue({ jobs: [jobFor('Late')] });
      await waitFor('the late job', () => parseJobLines(runtime.stdout()).ok.includes(lateId!) || parseJobLines(runtime.stdout()).failed.length > 0, 30_000);
      assert.deepEqual(parseJobLines(runtime.stdout()).ok, [lateId], runtime.stdout());
      runtime.child.kill('SIGTERM');
      assert.equal((await runtime.done).code, 0);
    });
  });

  test('idle RSS with 4 threads: .ts jobs within 15 MB of the same jobs in .js, and a .js app runs no compiler', { timeout: 120_000 }, async (t) => {
    const body = (name: string) => `import { Job } from 'jobs-runtime';\nexport default class ${name} extends Job {\n  async run(): Promise<void> {}\n}\n`;
    const names = ['Noop', 'Mail', 'Report', 'Refresh'];
    const idleRss = async (ext: 'ts' | 'js'): Promise<{ rss: number; log: string; app: E2eApp }> => {
      const app = await createApp('sqlite', `ts_rss_${ext}`);
      const jobsDir = layOutApp(app.dir);
      writeFiles(jobsDir, Object.fromEntries(names.map((n) => [`${n}.${ext}`, ext === 'ts' ? body(n) : body(n).replace(': Promise<void>', '')])));
      const runtime = await startRuntime(['--procs', '4', '--jobs-dir', jobsDir, '--database-url', app.url], app.dir);
      // Every thread busy once (and so loaded), then idle.
      const ids = await app.store.producer.enqueue({ jobs: names.flatMap((n) => [jobFor(n), jobFor(n)]) });
      await waitFor('the jobs', () => parseJobLines(runtime.stdout()).ok.length === ids.length, 30_000);
      const rss = await settledRssMb(runtime.pid);
      runtime.child.kill('SIGTERM');
      await runtime.done;
      return { rss, log: runtime.stdout(), app };
    };
    const js = await idleRss('js');
    const ts = await idleRss('ts');
    try {
      t.diagnostic(`idle RSS, 4 threads: .js ${js.rss.toFixed(1)} MB, .ts ${ts.rss.toFixed(1)} MB`);
      assert.ok(ts.rss - js.rss <= 15, `.ts ${ts.rss.toFixed(1)} MB vs .js ${js.rss.toFixed(1)} MB`);
      assert.doesNotMatch(js.log, /Compiled/);
      assert.equal(existsSync(join(js.app.dir, 'node_modules', '.cache')), false, 'no cache for a .js app');
      assert.match(ts.log, /Compiled 4 TypeScript job file\(s\)/);
    } finally {
      await js.app.close();
      await ts.app.close();
    }
  });
});

describe('TypeScript job files, compiled once by the master: mysql', () => {
  test('a throwing .ts job stores a stack naming the .ts file and line', { timeout: 90_000 }, async () => {
    await withTsApp('mysql', 'ts_stack', stackNamesTheTsLine);
  });
});
