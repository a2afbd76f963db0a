// What only the MySQL/MariaDB store has: the seed's table upgraded in place, index-driven
// claims whatever the table holds, and scheduling independent of time zones.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import mysql, { type Connection } from 'mysql2/promise';
import { openStore } from '../src/stores/open-store.ts';
import { recoverDead } from '../src/stores/mysql/registry.ts';
import { selectDueArgs, selectDueSql } from '../src/stores/mysql/claim-sql.ts';
import { NO_FOREIGN } from '../src/stores/mysql/foreign-rows.ts';
import { assertSkipLockedSupport } from '../src/stores/mysql/server-version.ts';
import type { JobStore } from '../src/stores/store.ts';
import { createMysqlDatabase, type TestDatabase } from './helpers/mysql.ts';
import { runCli } from './helpers/cli.ts';
import { JOBS_DIR } from './helpers/e2e.ts';
import { jobRow } from './helpers/job-rows.ts';

// The seed's exact DDL (../shared/reference/lightpack-background-jobs.md).
const SEED_DDL = `CREATE TABLE jobs (
    id int NOT NULL AUTO_INCREMENT,
    handler varchar(255) NOT NULL,
    queue varchar(55) NOT NULL,
    payload text NOT NULL,
    status varchar(55) NOT NULL,
    attempts int NOT NULL,
    exception longtext NULL,
    created_at datetime NOT NULL DEFAULT CURRENT_TIMESTAMP,
    scheduled_at datetime NOT NULL DEFAULT CURRENT_TIMESTAMP,
    failed_at datetime NULL,
    PRIMARY KEY (id),
    index status (status),
    index scheduled_at (scheduled_at),
    index queue (queue)
) ENGINE=InnoDB DEFAULT CHARSET=utf8 COLLATE=utf8_unicode_ci`;

describe('MySQL store', () => {
  let db: TestDatabase;
  let store: JobStore;
  before(async () => {
    db = await createMysqlDatabase('mysql_store');
    store = await openStore(db.url);
  });
  after(async () => {
    await store?.close();
    await db?.drop();
  });
  /** The seed's jobs table, fresh, holding `values` (handler, queue, payload, status, attempts, scheduled_at). */
  const seedTable = async (values: string) => {
    await db.query('DROP TABLE IF EXISTS jobs');
    await db.query(SEED_DDL);
    await db.query(`INSERT INTO jobs (handler, queue, payload, status, attempts, scheduled_at) VALUES ${values}`);
  };

  test("migrate upgrades the seed's table in place, keeping its rows", async () => {
    await seedTable(
      `('SendMail', 'emails', '{"to":"bob@example.com"}', 'new', 0, UTC_TIMESTAMP() - INTERVAL 1 MINUTE),
       ('SendMail', 'emails', '{"to":"eve@example.com"}', 'failed', 1, UTC_TIMESTAMP())`,
    );
    const planned = await store.admin.migrate({ dryRun: true });
    assert.equal(planned.statements.length, 11);
    assert.match(planned.statements[0]!, /^ALTER TABLE jobs/);
    assert.match(planned.statements[1]!, /^CREATE TABLE IF NOT EXISTS jobs_runtimes/);
    assert.match(planned.statements[2]!, /^CREATE TABLE IF NOT EXISTS jobs_paused/);
    assert.match(planned.statements[3]!, /^CREATE TABLE IF NOT EXISTS jobs_stats/);
    assert.match(planned.statements[4]!, /^CREATE TABLE IF NOT EXISTS jobs_leases/);
    assert.match(planned.statements[5]!, /^CREATE TABLE IF NOT EXISTS jobs_limits/);
    assert.match(planned.statements[6]!, /^CREATE TABLE IF NOT EXISTS jobs_rates/);
    assert.match(planned.statements[7]!, /^CREATE TABLE IF NOT EXISTS jobs_schedules/);
    assert.match(planned.statements[8]!, /^CREATE TABLE IF NOT EXISTS jobs_schedule_declarations/);
    assert.match(planned.statements[9]!, /^CREATE TABLE IF NOT EXISTS jobs_schedule_ticks/);
    assert.match(planned.statements[10]!, /^CREATE TABLE IF NOT EXISTS jobs_outcomes/);
    assert.equal((await db.query<unknown[]>('SHOW COLUMNS FROM jobs')).length, 10, 'dry run changes nothing');

    await store.admin.migrate({});
    assert.deepEqual((await store.admin.migrate({ dryRun: true })).statements, [], 'up to date after one run');
    const rows = await db.query<Array<{ id: number; payload: string; status: string; max_attempts: number }>>('SELECT * FROM jobs ORDER BY id');
    assert.deepEqual(
      rows.map((r) => [r.id, r.payload, r.status, r.max_attempts]),
      [
        [1, '{"to":"bob@example.com"}', 'new', 1],
        [2, '{"to":"eve@example.com"}', 'failed', 1],
      ],
    );
    // The seed's row is claimable, and the widened table now holds 4-byte UTF-8 and BIGINT ids.
    const [claimed] = await store.queue.claim({ owner: 'o', queues: ['emails'], limit: 5 });
    assert.equal(claimed?.id, 1);
    const [id] = await store.producer.enqueue({
      jobs: [jobRow({ handler: 'SendMail', queue: 'emails', payload: '{"s":"📧 ✔"}' })],
    });
    assert.equal((await store.admin.getJob({ id: id! }))!.payload, '{"s":"📧 ✔"}');
    const [col] = await db.query<Array<{ COLUMN_TYPE: string }>>(
      "SELECT COLUMN_TYPE FROM INFORMATION_SCHEMA.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'jobs' AND COLUMN_NAME = 'id'",
    );
    assert.match(col!.COLUMN_TYPE, /bigint/);
  });

  test("jobs the old worker left claimed (status 'queued') are reported by migrate and start, and given back with --requeue-queued --queue", async () => {
    await seedTable(
      `('SendMail', 'emails', '{"n":1}', 'queued', 1, UTC_TIMESTAMP() - INTERVAL 1 HOUR),
       ('SendMail', 'emails', '{"n":2}', 'queued', 1, UTC_TIMESTAMP() - INTERVAL 1 HOUR),
       ('SendMail', 'emails', '{"n":3}', 'new', 0, UTC_TIMESTAMP())`,
    );
    const notice =
      /^! 2 job\(s\) are in status 'queued' \(emails 2\): a Lightpack \(PHP\) worker is running them, or died running them; jobs-runtime never takes them\. If no PHP worker runs those queues any more, `jobs-runtime migrate --requeue-queued --queue <names>` gives them back/m;
    const migrated = await runCli(['migrate', '--database-url', db.url], { timeoutMs: 20_000 });
    assert.equal(migrated.code, 0, migrated.stderr);
    assert.match(migrated.stderr, notice);
    const started = await runCli(['start', '--stop-when-empty', '--jobs-dir', JOBS_DIR, '--database-url', db.url], { timeoutMs: 30_000 });
    assert.match(started.stderr, /WARN {2}2 job\(s\) are in status 'queued'/);
    assert.equal((await db.query<unknown[]>("SELECT id FROM jobs WHERE status = 'queued'")).length, 2, 'start leaves them alone');

    const refused = await runCli(['migrate', '--requeue-queued', '--database-url', db.url], { timeoutMs: 20_000 });
    assert.notEqual(refused.code, 0);
    assert.match(
      refused.stderr,
      /--requeue-queued needs --queue <names>: a job in status 'queued' may be running in a PHP worker right now, and would run twice/,
    );
    const requeued = await runCli(['migrate', '--requeue-queued', '--queue', 'emails', '--database-url', db.url], { timeoutMs: 20_000 });
    assert.equal(requeued.code, 0, requeued.stderr);
    assert.match(
      requeued.stderr,
      /^! Gave back 2 job\(s\) in status 'queued' on emails: they run again, not charged an attempt \(any a PHP worker was running at this moment run twice\)$/m,
    );
    const rows = await db.query<Array<{ status: string; attempts: number }>>('SELECT status, attempts FROM jobs WHERE id IN (1, 2) ORDER BY id');
    assert.deepEqual(
      rows.map((r) => [r.status, r.attempts]),
      [
        ['new', 0],
        ['new', 0],
      ],
    );
    const again = await runCli(['migrate', '--database-url', db.url], { timeoutMs: 20_000 });
    assert.doesNotMatch(again.stderr, /queued/);
  });

  test('migrate drops the owner index of earlier versions, which every job paid for', async () => {
    await db.query('DROP TABLE IF EXISTS jobs');
    await store.admin.migrate({});
    await db.query('ALTER TABLE jobs ADD KEY jobs_owner (owner)');
    assert.deepEqual((await store.admin.migrate({ dryRun: true })).statements, ['ALTER TABLE jobs\n  DROP KEY jobs_owner']);
    await store.admin.migrate({});
    const indexes = await db.query<Array<{ INDEX_NAME: string }>>(
      "SELECT DISTINCT INDEX_NAME FROM INFORMATION_SCHEMA.STATISTICS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'jobs' ORDER BY INDEX_NAME",
    );
    assert.deepEqual(
      indexes.map((i) => i.INDEX_NAME),
      ['jobs_claim', 'jobs_claim_queue', 'jobs_concurrency', 'jobs_unique', 'PRIMARY'],
    );
  });

  test('migrate replaces the claim indexes of earlier versions (before priorities) in the same ALTER', async () => {
    await db.query('DROP TABLE IF EXISTS jobs');
    await store.admin.migrate({});
    await db.query('ALTER TABLE jobs DROP KEY jobs_claim, ADD KEY jobs_claim (status, scheduled_at, id), DROP KEY jobs_unique');
    assert.deepEqual((await store.admin.migrate({ dryRun: true })).statements, [
      'ALTER TABLE jobs\n  DROP KEY jobs_claim,\n  ADD KEY jobs_claim (status, priority, scheduled_at, id),\n  ADD UNIQUE KEY jobs_unique (unique_key, handler)',
    ]);
    await store.admin.migrate({});
    assert.deepEqual((await store.admin.migrate({ dryRun: true })).statements, []);
  });

  test('migrate adds the registry columns of later versions (slots, wake_address), keeping its rows', async () => {
    await store.admin.migrate({});
    // The runtimes table as earlier versions created it, with a runtime registered in it.
    await db.query('DROP TABLE jobs_runtimes');
    await db.query(`CREATE TABLE jobs_runtimes (
      id VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL, host VARCHAR(255) NOT NULL, pid INT NOT NULL,
      queues TEXT NULL, threads INT NOT NULL, started_at DATETIME(3) NOT NULL, heartbeat_at DATETIME(3) NOT NULL,
      cpu_percent DOUBLE NOT NULL DEFAULT 0, rss_bytes BIGINT UNSIGNED NOT NULL DEFAULT 0, jobs_done BIGINT UNSIGNED NOT NULL DEFAULT 0,
      jobs_failed BIGINT UNSIGNED NOT NULL DEFAULT 0, busy_threads INT NOT NULL DEFAULT 0, PRIMARY KEY (id), KEY heartbeat_at (heartbeat_at)
    ) ENGINE=InnoDB`);
    await db.query(
      "INSERT INTO jobs_runtimes (id, host, pid, threads, started_at, heartbeat_at) VALUES ('old-1', 'web-1', 42, 4, UTC_TIMESTAMP(3), UTC_TIMESTAMP(3))",
    );
    const planned = await store.admin.migrate({ dryRun: true });
    assert.deepEqual(planned.statements, [
      'ALTER TABLE jobs_runtimes\n  ADD COLUMN slots INT NULL,\n  ADD COLUMN wake_address VARCHAR(300) CHARACTER SET ascii COLLATE ascii_bin NULL',
    ]);
    const refused = await runCli(['start', '--stop-when-empty', '--jobs-dir', JOBS_DIR, '--database-url', db.url], { timeoutMs: 30_000 });
    assert.equal(refused.code, 1, 'start refuses a registry that is not upgraded');
    assert.match(refused.stderr, /run `jobs-runtime migrate` first/);
    await store.admin.migrate({});
    assert.deepEqual((await store.admin.migrate({ dryRun: true })).statements, []);
    const [old] = (await store.registry.listRuntimes({})).filter((r) => r.id === 'old-1');
    assert.deepEqual([old?.host, old?.threads, old?.slots, old?.wakeAddress], ['web-1', 4, 4, null], 'kept; no slots recorded reads as its threads');
    await store.registry.registerRuntime({ runtime: { id: 'new-1', host: 'w', pid: 1, queues: null, threads: 2, slots: 20, wakeAddress: '10.1.2.3:4567' } });
    assert.deepEqual(await store.producer.wakeAddresses!({}), ['10.1.2.3:4567']);
  });

  test('claims read only the rows they take, whatever else the table holds', async () => {
    await db.query('DROP TABLE IF EXISTS jobs');
    await store.admin.migrate({});
    // 30k rows in other statuses and 10k delayed, then 500 due: a claim of 100 must read ~100.
    const filler = (n: number, delayMs = 0) => Array.from({ length: n }, () => jobRow({ delayMs }));
    await store.producer.enqueue({ jobs: filler(30_000) });
    await db.query("UPDATE jobs SET status = 'failed'");
    await store.producer.enqueue({ jobs: filler(10_000, 86_400_000) });
    await store.producer.enqueue({ jobs: filler(500) });
    await db.query('ANALYZE TABLE jobs');
    for (const byQueue of [false, true]) {
      const sql = selectDueSql('jobs', byQueue, NO_FOREIGN).replace('SELECT ', 'SELECT /* explain */ ');
      const params = selectDueArgs(byQueue ? 'default' : null, 0, 100, NO_FOREIGN);
      const [plan] = await db.query<Array<{ ANALYZE: string }>>(`ANALYZE FORMAT=JSON ${sql}`, params);
      const json = JSON.parse(Object.values(plan!)[0] as string) as { query_block: { table?: Record<string, unknown> } };
      const table = JSON.stringify(json);
      assert.match(table, /"key":"jobs_claim(_queue)?"/, `index used (${byQueue ? 'by queue' : 'all queues'})`);
      assert.doesNotMatch(table, /filesort/, 'no sort');
      const rRows = Number(/"r_rows":([\d.]+)/.exec(table)?.[1]);
      assert.ok(rRows <= 101, `read ${rRows} rows for a claim of 100`);
    }
  });

  test('scheduling does not depend on the time zone of Node', async () => {
    await db.query('DROP TABLE IF EXISTS jobs');
    await store.admin.migrate({});
    const script = `
      import { openStore } from '${new URL('../src/stores/open-store.ts', import.meta.url).pathname}';
      import { jobRow } from '${new URL('./helpers/job-rows.ts', import.meta.url).pathname}';
      const s = await openStore(process.env.URL);
      const [id] = await s.producer.enqueue({ jobs: [jobRow({ queue: 'tz', delayMs: 3000 })] });
      console.log(id);
      await s.close();`;
    const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      env: { ...process.env, URL: db.url, TZ: 'Pacific/Kiritimati' }, // UTC+14
      encoding: 'utf8',
    });
    const job = (await store.admin.getJob({ id: Number(out.trim()) }))!;
    const dueIn = job.scheduledAt.getTime() - Date.now();
    assert.ok(dueIn > 1_000 && dueIn <= 3_000, `due in ${dueIn} ms, not hours off`);
    assert.deepEqual(await store.queue.claim({ owner: 'o', queues: ['tz'], limit: 1 }), []);
  });

  test('servers without SKIP LOCKED get a clear error', () => {
    assert.throws(() => assertSkipLockedSupport('10.5.19-MariaDB'), /MariaDB 10\.5\.19-MariaDB is too old.*MariaDB 10\.6\+/);
    assert.throws(() => assertSkipLockedSupport('5.7.44'), /MySQL 5\.7\.44 is too old/);
    assertSkipLockedSupport('10.11.19-MariaDB-0+deb12u1');
    assertSkipLockedSupport('8.0.36');
  });
});

// Recovery lists dead runtimes, then locks each one's row in a transaction of its own. A runtime
// that beats in between is alive: giving its jobs back would run them twice. Here the beat is
// made to land exactly in that gap, by running it right after the listing query returns.
// The payload limit leaves room for escaping, which can double a payload in its statement.
describe('MySQL store: recovery races and the payload limit', () => {
  let db: TestDatabase;
  let store: JobStore;
  before(async () => {
    db = await createMysqlDatabase('mysql_races_limits');
    store = await openStore(db.url);
    await store.admin.migrate({});
  });
  after(async () => {
    await store?.close();
    await db?.drop();
  });

  test('a runtime that beats between the listing and the lock keeps its jobs and its registration', async () => {
    const runtime = { id: 'live1', host: 'h', pid: 1, queues: null, threads: 1 };
    await store.registry.registerRuntime({ runtime });
    const [id] = await store.producer.enqueue({
      jobs: [jobRow()],
    });
    assert.deepEqual(
      (await store.queue.claim({ owner: 'live1', queues: null, limit: 1 })).map((j) => j.id),
      [id],
    );
    await db.query("UPDATE jobs_runtimes SET heartbeat_at = UTC_TIMESTAMP(3) - INTERVAL 1 HOUR WHERE id = 'live1'");

    const conn = await mysql.createConnection(db.url);
    try {
      let listed = false;
      const beatAfterListing = {
        query: async (sql: string, params?: unknown[]) => {
          const result = await conn.query(sql, params);
          if (!listed) {
            listed = true;
            await store.registry.heartbeat({ runtime, stats: { cpuPercent: 0, rssBytes: 0, jobsDone: 0, jobsFailed: 0, busyThreads: 1 }, timeoutMs: 5_000 });
          }
          return result;
        },
      } as unknown as Connection;
      const report = await recoverDead(beatAfterListing, 'jobs', { deadAfterMs: 60_000, maxInterruptions: 3 });
      assert.ok(listed);
      assert.deepEqual(report, { runtimes: [], released: 0, failed: 0 });
    } finally {
      await conn.end();
    }
    const row = await store.admin.getJob({ id: id! });
    assert.equal(row?.status, 'processing');
    assert.equal(row?.owner, 'live1');
    assert.deepEqual(
      (await store.registry.listRuntimes({})).map((r) => r.id),
      ['live1'],
    );
  });

  test('a payload as large as maxPayloadBytes, all characters that escaping doubles, is stored whole', { timeout: 60_000 }, async () => {
    const max = await store.producer.maxPayloadBytes();
    const [packet] = await db.query<Array<{ p: number }>>('SELECT @@max_allowed_packet AS p');
    assert.ok(max < Number(packet!.p) / 2, `limit ${max} leaves room for escaping within max_allowed_packet ${packet!.p}`);
    // A JSON string of quotes: every byte of it is a quote or a backslash, which escaping doubles.
    const payload = JSON.stringify('"'.repeat(Math.floor((max - 2) / 2)));
    assert.ok(Buffer.byteLength(payload) <= max && Buffer.byteLength(payload) > max - 4);
    const [id] = await store.producer.enqueue({
      jobs: [jobRow({ queue: 'big', payload })],
    });
    assert.equal((await store.admin.getJob({ id: id! }))!.payload, payload);
  });
});
