// The claim stays index-driven at a million rows (issue 15): 1M due jobs with mixed priorities
// and 1M in other states (processing, failed, delayed, blocked). Each claim statement, run with
// ANALYZE FORMAT=JSON (the plan and what it actually read), uses its claim index, sorts nothing
// and reads about the rows it returns; a whole claim through the store reads a few hundred index
// entries (the server's Handler_read counters). The plans are printed for the closing note.
import assert from 'node:assert/strict';
import { after, before, describe, test, type TestContext } from 'node:test';
import { selectDueArgs, selectDueSql, selectPrioritiesArgs, selectPrioritiesSql } from '../src/stores/mysql/claim-sql.ts';
import { NO_FOREIGN } from '../src/stores/mysql/foreign-rows.ts';
import { unblockSql } from '../src/stores/mysql/unblock.ts';
import { openStore } from '../src/stores/open-store.ts';
import type { JobStore } from '../src/stores/store.ts';
import { createMysqlDatabase, type TestDatabase } from './helpers/mysql.ts';

const ROWS = 1_000_000;

/** The plan of `sql` as executed: its JSON, and the rows each table access read. */
async function analyze(db: TestDatabase, t: TestContext, label: string, sql: string, args: unknown[]): Promise<string> {
  const [plan] = await db.query<Array<Record<string, string>>>(`ANALYZE FORMAT=JSON ${sql}`, args);
  const json = Object.values(plan!)[0]!;
  t.diagnostic(`${label}:\n${sql.replace(/\s+/g, ' ')}\n${json}`);
  return json;
}

/** r_rows of the jobs table's access (the first table in the plan). */
function jobRowsRead(json: string): number {
  return Number(/"table_name": "jobs",[\s\S]*?"r_rows": ([\d.]+)/.exec(json)?.[1]);
}

async function handlerReads(db: TestDatabase): Promise<number> {
  const rows = await db.query<Array<{ Variable_name: string; Value: string }>>("SHOW GLOBAL STATUS LIKE 'Handler_read%'");
  return rows.reduce((sum, r) => sum + Number(r.Value), 0);
}

describe('MySQL claim at 1M due rows with mixed priorities and 1M in other states', () => {
  let db: TestDatabase;
  let store: JobStore;
  before(async () => {
    db = await createMysqlDatabase('mysql_claim_explain');
    store = await openStore(db.url);
    await store.admin.migrate({});
    // The sequence engine makes the rows server-side: seconds, not minutes. Priorities −5…5,
    // two queues, due times spread over the last hour.
    await db.query(`INSERT INTO jobs (handler, queue, payload, status, priority, scheduled_at)
      SELECT 'Ok', IF(seq % 2 = 0, 'a', 'b'), '{}', 'new', CAST(seq % 11 AS SIGNED) - 5, UTC_TIMESTAMP(3) - INTERVAL (seq % 3600) SECOND
        FROM seq_1_to_${ROWS}`);
    // A quarter each: processing, failed, delayed (due in a day, the most urgent priority), and
    // blocked: 1000 on each of 250 keys (acct-0, acct-4, …) whose one slot a processing job holds.
    await db.query(`INSERT INTO jobs (handler, queue, payload, status, priority, scheduled_at, owner, claim_token, claimed_at, failed_at, concurrency_key, concurrency_limit)
      SELECT 'Ok', IF(seq % 2 = 0, 'a', 'b'), '{}', ELT(seq % 4 + 1, 'processing', 'failed', 'new', 'blocked'),
             IF(seq % 4 = 2, -1000, CAST(seq % 11 AS SIGNED) - 5),
             IF(seq % 4 = 2, UTC_TIMESTAMP(3) + INTERVAL 1 DAY, UTC_TIMESTAMP(3) - INTERVAL (seq % 3600) SECOND),
             IF(seq % 4 = 0, 'elsewhere', NULL), IF(seq % 4 = 0, '0123456789abcdef', NULL), IF(seq % 4 = 0, UTC_TIMESTAMP(3), NULL),
             IF(seq % 4 = 1, UTC_TIMESTAMP(3), NULL),
             ELT(seq % 4 + 1, CONCAT('acct-', seq), NULL, NULL, CONCAT('acct-', seq % 1000 - 3)), IF(seq % 4 IN (0, 3), 1, NULL)
        FROM seq_1_to_${ROWS}`);
    await db.query('ANALYZE TABLE jobs');
  });
  after(async () => {
    await store?.close();
    await db?.drop();
  });

  test('the priorities: a loose index scan, one read per distinct priority', async (t) => {
    for (const queue of [null, 'a']) {
      const json = await analyze(db, t, `priorities, ${queue ?? 'all queues'}`, selectPrioritiesSql('jobs', queue !== null), selectPrioritiesArgs(queue));
      assert.match(json, /"key": "jobs_claim(_queue)?"/);
      assert.match(json, /"using_index_for_group_by": true/, 'loose index scan');
      assert.doesNotMatch(json, /filesort|temporary/);
      assert.ok(jobRowsRead(json) <= 40, `read ${jobRowsRead(json)} index entries`);
    }
  });

  test('one priority: the due range in index order, 100 rows read for 100 taken', async (t) => {
    for (const queue of [null, 'a']) {
      const json = await analyze(
        db,
        t,
        `due rows of priority -5, ${queue ?? 'all queues'}`,
        selectDueSql('jobs', queue !== null, NO_FOREIGN),
        selectDueArgs(queue, -5, 100, NO_FOREIGN),
      );
      assert.match(json, /"key": "jobs_claim(_queue)?"/);
      assert.doesNotMatch(json, /filesort|temporary/);
      assert.ok(jobRowsRead(json) <= 101, `read ${jobRowsRead(json)} rows`);
    }
  });

  test("a key's processing jobs are counted by index", async (t) => {
    const json = await analyze(
      db,
      t,
      'processing jobs per concurrency key',
      "SELECT concurrency_key AS k, COUNT(*) AS n FROM jobs FORCE INDEX (jobs_concurrency) WHERE concurrency_key IN (?) AND status = 'processing' GROUP BY concurrency_key",
      [['acct-4', 'acct-8']],
    );
    assert.match(json, /"key": "jobs_concurrency"/);
    assert.doesNotMatch(json, /filesort/);
    assert.ok(jobRowsRead(json) <= 4, `read ${jobRowsRead(json)} rows: the processing ones, not the 500 blocked`);
    // A freed slot unblocks the key's first blocked job in claim order (unblock.ts), by index.
    const unblock = await analyze(db, t, 'unblock of one slot', unblockSql('jobs'), ['acct-4', 1]);
    assert.match(unblock, /"key": "jobs_concurrency"/);
    assert.doesNotMatch(unblock, /filesort/);
    const derived = Number(/"table_name": "<derived2>",[\s\S]*?"r_rows": ([\d.]+)/.exec(unblock)?.[1]);
    assert.ok(derived <= 1, `read ${derived} of the key's 1000 blocked jobs`);
  });

  test('whole claims through the store: the most urgent due jobs, a few hundred index reads', async (t) => {
    for (const queues of [null, ['a'], ['b', 'a']]) {
      const reads = await handlerReads(db);
      const started = performance.now();
      const jobs = await store.queue.claim({ owner: 'explain', queues, limit: 100 });
      const ms = performance.now() - started;
      const read = (await handlerReads(db)) - reads;
      t.diagnostic(`claim of 100, queues ${JSON.stringify(queues)}: ${ms.toFixed(1)} ms, Handler_read_* +${read}`);
      assert.equal(jobs.length, 100);
      assert.ok(
        jobs.every((j) => j.priority === -5),
        'the most urgent priority first',
      );
      if (queues) assert.ok(jobs.every((j) => j.queue === queues[0]));
      // 100 rows, ~11 loose-scan dives, the claim's UPDATE by primary key, SHOW STATUS itself.
      assert.ok(read < 2_000, `a claim read ${read} entries`);
    }
  });
});
