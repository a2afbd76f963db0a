// The README's code examples that are meant to run are files under examples/: each is run here,
// and its README block must be that file, byte for byte, so neither can drift from the other.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { killAll, startCli } from './helpers/cli.ts';
import { createMysqlDatabase } from './helpers/mysql.ts';
import { generatePrisma } from './helpers/tx-libraries.ts';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
const dir = mkdtempSync(join(tmpdir(), 'jr-readme-'));
after(() => {
  killAll(); // a runtime a failed test left
  rmSync(dir, { recursive: true, force: true });
});

/** Runs an example file as an application would (its own process), resolving to its stdout. */
function runExample(file: string, cwd: string, url: string): Promise<string> {
  return new Promise<string>((resolve, reject) =>
    execFile(
      process.execPath,
      ['--import', 'tsx', file],
      { cwd, env: { ...process.env, JOBS_DATABASE_URL: url, JOBS_WAKE: '0' }, timeout: 60_000 },
      (err, out, errOut) => (err ? reject(new Error(`${err.message}\n${errOut}`)) : resolve(out)),
    ),
  );
}

/** The jobs table, as `jobs-runtime migrate` creates it. */
async function migrate(url: string): Promise<void> {
  const { openStore } = await import('../src/stores/open-store.ts');
  const store = await openStore(url);
  try {
    await store.admin.migrate({});
  } finally {
    await store.close();
  }
}

describe('README examples', () => {
  test('Dispatching: the block is examples/app/dispatching.ts, which stores what it says', async () => {
    const file = join(REPO, 'examples/app/dispatching.ts');
    assert.ok(readme.includes(`\`\`\`ts\n${readFileSync(file, 'utf8')}\`\`\``), 'the README block is the file');
    const db = join(dir, 'dispatching.sqlite');
    const stdout = await new Promise<string>((resolve, reject) =>
      execFile(
        process.execPath,
        ['--import', 'tsx', file],
        { cwd: join(REPO, 'examples/app'), env: { ...process.env, JOBS_DATABASE_URL: `sqlite:${db}`, JOBS_WAKE: '0' }, timeout: 30_000 },
        (err, out, errOut) => (err ? reject(new Error(`${err.message}\n${errOut}`)) : resolve(out)),
      ),
    );
    assert.equal(stdout, 'Dispatched 1, then 3 and 4\n');
    const sqlite = new Database(db, { readonly: true });
    try {
      const rows = sqlite
        .prepare<[], { id: number; queue: string; payload: string; later: number }>(
          'SELECT id, queue, payload, scheduled_at - created_at AS later FROM jobs ORDER BY id',
        )
        .all();
      assert.deepEqual(
        rows.map((r) => [r.id, r.queue, JSON.parse(r.payload).to]),
        [
          [1, 'emails', 'bob@example.com'],
          [2, 'urgent', 'ann@example.com'],
          [3, 'emails', 'a@example.com'],
          [4, 'emails', 'b@example.com'],
        ],
      );
      assert.equal(rows[1]!.later, 3_600_000, 'the second is delayed by an hour');
    } finally {
      sqlite.close();
    }
  });

  test('Flow control: the blocks are examples/app/jobs/SyncAccount.ts and flow-control.ts, which store what they say', async () => {
    for (const name of ['jobs/SyncAccount.ts', 'flow-control.ts']) {
      assert.ok(readme.includes(`\`\`\`ts\n${readFileSync(join(REPO, 'examples/app', name), 'utf8')}\`\`\``), `the README block is ${name}`);
    }
    const db = join(dir, 'flow.sqlite');
    const stdout = await new Promise<string>((resolve, reject) =>
      execFile(
        process.execPath,
        ['--import', 'tsx', join(REPO, 'examples/app/flow-control.ts')],
        { cwd: join(REPO, 'examples/app'), env: { ...process.env, JOBS_DATABASE_URL: `sqlite:${db}`, JOBS_WAKE: '0' }, timeout: 30_000 },
        (err, out, errOut) => (err ? reject(new Error(`${err.message}\n${errOut}`)) : resolve(out)),
      ),
    );
    assert.equal(stdout, 'acme: job 1; again: duplicate of job 1; globex: job 2\n');
    const { openStore } = await import('../src/stores/open-store.ts');
    const store = await openStore(`sqlite:${db}`);
    try {
      const acme = (await store.admin.getJob({ id: 1 }))!;
      assert.deepEqual([acme.priority, acme.uniqueKey, acme.concurrencyKey, acme.rateKey], [10, 'acme', 'crm-api', 'crm-api']);
      assert.equal((await store.admin.getJob({ id: 2 }))!.priority, -100);
      const [claimed] = await store.queue.claim({ owner: 'readme', queues: null, limit: 1 });
      assert.equal(claimed!.id, 2, 'the urgent one is claimed first');
      assert.deepEqual(JSON.parse(claimed!.retryPolicy!), { exponential: 2000, max: 3_600_000, jitter: true });
    } finally {
      await store.close();
    }
  });

  test('Recurring jobs: the blocks are examples/recurring/jobs/NightlyReport.ts and schedules.ts, which store what they say', async () => {
    for (const name of ['jobs/NightlyReport.ts', 'schedules.ts']) {
      assert.ok(readme.includes(`\`\`\`ts\n${readFileSync(join(REPO, 'examples/recurring', name), 'utf8')}\`\`\``), `the README block is ${name}`);
    }
    const db = join(dir, 'recurring.sqlite');
    const stdout = await new Promise<string>((resolve, reject) =>
      execFile(
        process.execPath,
        ['--import', 'tsx', join(REPO, 'examples/recurring/schedules.ts')],
        { cwd: join(REPO, 'examples/recurring'), env: { ...process.env, JOBS_DATABASE_URL: `sqlite:${db}`, JOBS_WAKE: '0' }, timeout: 30_000 },
        (err, out, errOut) => (err ? reject(new Error(`${err.message}\n${errOut}`)) : resolve(out)),
      ),
    );
    assert.equal(stdout, 'Scheduled weekly-digest; removed every-10-s: true\n');
    const { openStore } = await import('../src/stores/open-store.ts');
    const store = await openStore(`sqlite:${db}`);
    try {
      const list = await store.admin.listSchedules();
      assert.deepEqual(
        list.map((s) => [s.key, s.kind, s.cron, s.tz, s.job.handler, JSON.parse(s.job.payload).kind, s.job.maxAttempts]),
        [['weekly-digest', 'dynamic', '0 8 * * MON', 'America/New_York', 'NightlyReport', 'weekly', 3]],
      );
    } finally {
      await store.close();
    }
    // The static schedule, as a runtime reads it (in a child process).
    const { discoverStaticSchedules } = await import('../dist/src/schedules/discover.js');
    const found = await discoverStaticSchedules(join(REPO, 'examples/recurring/jobs'));
    assert.deepEqual(
      found.schedules.map((s) => [s.key, s.cron, s.tz, s.misfire, JSON.parse(s.job.payload).kind]),
      [['NightlyReport', '30 2 * * *', 'Europe/Paris', 'once', 'daily']],
    );
  });

  test('Waiting for a job: the block is examples/app/waiting.ts, which waits for and follows a job a real runtime runs', async () => {
    const file = join(REPO, 'examples/app/waiting.ts');
    assert.ok(readme.includes(`\`\`\`ts\n${readFileSync(file, 'utf8')}\`\`\``), 'the README block is the file');
    const url = `sqlite:${join(dir, 'waiting.sqlite')}`;
    const runtime = startCli(['start', '--jobs-dir', join(REPO, 'examples/app/jobs'), '--database-url', url, '--sleep', '0.2'], {
      cwd: dir,
      timeoutMs: 60_000,
    });
    try {
      const stdout = await new Promise<string>((resolve, reject) =>
        execFile(
          process.execPath,
          ['--import', 'tsx', file],
          { cwd: join(REPO, 'examples/app'), env: { ...process.env, JOBS_DATABASE_URL: url, JOBS_WAKE: '0' }, timeout: 30_000 },
          (err, out, errOut) => (err ? reject(new Error(`${err.message}\n${errOut}`)) : resolve(out)),
        ),
      );
      assert.match(stdout, /^Job 1: completed after 1 attempt\(s\), result \{"pixels":307200\}\ncompleted: job 1 \(ResizeImage, attempt 1, [\d.]+ ms\)\n$/);
    } finally {
      runtime.child.kill('SIGTERM');
      await runtime.done;
    }
  });
});

describe('README: Dispatching in a transaction', () => {
  const TX = join(REPO, 'examples/transactions');
  const ROLLED_BACK = 'bob: payment declined, no order, no job\n';

  test('the blocks are examples/transactions/*.ts', () => {
    for (const name of ['mysql2.ts', 'knex.ts', 'prisma.ts', 'better-sqlite3.ts', 'jobs/SendConfirmation.ts']) {
      assert.ok(readme.includes(`\`\`\`ts\n${readFileSync(join(TX, name), 'utf8')}\`\`\``), `the README block is ${name}`);
    }
  });

  for (const name of ['mysql2', 'knex', 'prisma']) {
    test(`${name} on MariaDB: after the commit ann's order and its job exist; after the rollback neither of bob's`, async () => {
      if (name === 'prisma') generatePrisma(join(TX, 'prisma/schema.prisma'));
      const db = await createMysqlDatabase(`readme_tx_${name}`);
      try {
        await db.query('CREATE TABLE orders (id INT AUTO_INCREMENT PRIMARY KEY, customer VARCHAR(100) NOT NULL)');
        await migrate(db.url);
        assert.equal(await runExample(join(TX, `${name}.ts`), TX, db.url), ROLLED_BACK);
        const orders = await db.query<Array<{ id: number; customer: string }>>('SELECT id, customer FROM orders');
        assert.deepEqual(
          orders.map((o) => o.customer),
          ['ann'],
        );
        const jobs = await db.query<Array<{ handler: string; payload: string }>>('SELECT handler, payload FROM jobs');
        assert.deepEqual(
          jobs.map((j) => [j.handler, JSON.parse(j.payload).orderId]),
          [['SendConfirmation', orders[0]!.id]],
        );
      } finally {
        await db.drop();
      }
    });
  }

  test("better-sqlite3: after the commit ann's order and its job exist; after the rollback neither of bob's", async () => {
    const file = join(dir, 'transactions.sqlite');
    const setup = new Database(file);
    setup.exec('CREATE TABLE orders (id INTEGER PRIMARY KEY, customer TEXT NOT NULL)');
    setup.close();
    await migrate(`sqlite:${file}`);
    assert.equal(await runExample(join(TX, 'better-sqlite3.ts'), TX, `sqlite:${file}`), ROLLED_BACK);
    const sqlite = new Database(file, { readonly: true });
    try {
      const orders = sqlite.prepare<[], { id: number; customer: string }>('SELECT id, customer FROM orders').all();
      assert.deepEqual(
        orders.map((o) => o.customer),
        ['ann'],
      );
      const jobs = sqlite.prepare<[], { handler: string; payload: string }>('SELECT handler, payload FROM jobs').all();
      assert.deepEqual(
        jobs.map((j) => [j.handler, JSON.parse(j.payload).orderId]),
        [['SendConfirmation', orders[0]!.id]],
      );
    } finally {
      sqlite.close();
    }
  });
});
