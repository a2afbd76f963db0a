// The dashboard's list queries stay index-driven at a million rows (issue 18): 1M jobs on one
// queue in every state, priorities −5…5. Each statement Admin.listJobs runs, executed with
// ANALYZE FORMAT=JSON, uses jobs_claim_queue (or the primary key), sorts nothing and reads
// about the rows of one page, first page or deep; a whole page through the store reads a few
// hundred index entries (Handler_read counters). Plans are printed as diagnostics.
import assert from 'node:assert/strict';
import { after, before, describe, test, type TestContext } from 'node:test';
import { segmentsOf } from '../src/stores/job-list.ts';
import { nextPrioritySql, segmentSql } from '../src/stores/mysql/list-jobs.ts';
import { openStore } from '../src/stores/open-store.ts';
import { JOB_LIST_SCAN, JOB_LIST_STATES, type JobStore } from '../src/stores/store.ts';
import { createMysqlDatabase, type TestDatabase } from './helpers/mysql.ts';

const ROWS = 1_000_000;
const WINDOW = 51; // a page of 50, and one to know there is a next

async function analyze(db: TestDatabase, t: TestContext, label: string, sql: string, args: unknown[]): Promise<string> {
  const [plan] = await db.query<Array<Record<string, string>>>(`ANALYZE FORMAT=JSON ${sql}`, args);
  const json = Object.values(plan!)[0]!;
  t.diagnostic(`${label}:\n${sql.replace(/\s+/g, ' ')}\n${json}`);
  return json;
}

/** Rows read by every access to the jobs table in the plan, summed. */
function rowsRead(json: string): number {
  return [...json.matchAll(/"table_name": "(?:jobs|j)",[\s\S]*?"r_rows": ([\d.]+)/g)].reduce((s, m) => s + Number(m[1]), 0);
}

describe('MySQL listJobs at 1M rows in every state', () => {
  let db: TestDatabase;
  let store: JobStore;
  let deep: { priority: number; dueMs: number; id: number };
  before(async () => {
    db = await createMysqlDatabase('mysql_list_explain');
    store = await openStore(db.url);
    await store.admin.migrate({});
    // A sixth each: due, delayed (a day out), blocked, processing, failed, completed; one handler in 100 is mail/Send.
    await db.query(`INSERT INTO jobs (handler, queue, payload, status, priority, scheduled_at, failed_at, completed_at)
      SELECT IF(seq % 100 = 7, 'mail/Send', 'Ok'), 'a', '{}', ELT(seq % 6 + 1, 'new', 'new', 'blocked', 'processing', 'failed', 'completed'),
             CAST(seq % 11 AS SIGNED) - 5,
             IF(seq % 6 = 1, UTC_TIMESTAMP(3) + INTERVAL 1 DAY, UTC_TIMESTAMP(3) - INTERVAL (seq % 3600) SECOND),
             IF(seq % 6 = 4, UTC_TIMESTAMP(3), NULL), IF(seq % 6 = 5, UTC_TIMESTAMP(3), NULL)
        FROM seq_1_to_${ROWS}`);
    await db.query('ANALYZE TABLE jobs');
    // A cursor half way: priority 0, half an hour ago.
    const [row] = await db.query<Array<{ id: number; scheduled_at: Date }>>(
      "SELECT id, scheduled_at FROM jobs WHERE queue = 'a' AND status = 'new' AND priority = 0 AND scheduled_at <= UTC_TIMESTAMP(3) - INTERVAL 1800 SECOND ORDER BY scheduled_at DESC, id LIMIT 1",
    );
    deep = { priority: 0, dueMs: row!.scheduled_at.getTime(), id: row!.id };
  });
  after(async () => {
    await store?.close();
    await db?.drop();
  });

  test('every state, first page and deep: jobs_claim_queue in order, no sort, a page of rows read', async (t) => {
    for (const state of JOB_LIST_STATES) {
      for (const seg of segmentsOf(state)) {
        for (const at of [null, deep]) {
          // A due condition is read one priority at a time (list-jobs.ts): check that statement.
          const q = segmentSql('jobs', { queue: 'a' }, seg, at, WINDOW, seg.due ? 0 : undefined);
          const json = await analyze(db, t, `${state} ${seg.status}${seg.due ? ` ${seg.due}` : ''} ${at ? 'deep' : 'first'}`, q.sql, q.args);
          assert.match(json, /"key": "jobs_claim_queue"/);
          assert.doesNotMatch(json, /filesort|temporary/);
          t.diagnostic(`rows read: ${rowsRead(json)}`);
          assert.ok(rowsRead(json) >= 1 && rowsRead(json) <= WINDOW + 1, `${state}: read ${rowsRead(json)} entries for a page of ${WINDOW}`);
        }
      }
    }
  });

  test('the next priority of a walk: one index lookup', async (t) => {
    const json = await analyze(db, t, 'next priority', nextPrioritySql('jobs', true), ['a', 'new', 0]);
    assert.match(json, /jobs_claim_queue|Select tables optimized away/);
    assert.doesNotMatch(json, /filesort|temporary/);
    assert.ok(rowsRead(json) <= 2 || /optimized away/.test(json), `read ${rowsRead(json)}`);
  });

  test('a search by handler reads a bounded stretch; by id, the primary key', async (t) => {
    const seg = segmentsOf('failed')[0]!;
    const q = segmentSql('jobs', { queue: 'a', handler: 'mail/Send' }, seg, deep, JOB_LIST_SCAN);
    const json = await analyze(db, t, 'failed, handler mail/Send, deep', q.sql, q.args);
    assert.match(json, /"key": "jobs_claim_queue"/);
    assert.ok(rowsRead(json) <= 2 * JOB_LIST_SCAN + 2, `read ${rowsRead(json)}`);
    const byId = segmentSql('jobs', { queue: 'a', id: deep.id }, segmentsOf('waiting')[0]!, null, WINDOW);
    const idJson = await analyze(db, t, 'by id', byId.sql, byId.args);
    assert.match(idJson, /"key": "PRIMARY"|const/);
  });

  test('whole pages through the store read a few hundred index entries', async () => {
    const conn = db; // the store reads on its own connections: global counters (nothing else runs here)
    for (const state of JOB_LIST_STATES) {
      const before = await globalReads(conn);
      const first = await store.admin.listJobs({ queue: 'a', state, limit: 50 });
      const second = await store.admin.listJobs({ queue: 'a', state, limit: 50, after: first.next });
      const read = (await globalReads(conn)) - before;
      assert.deepEqual([first.jobs.length, second.jobs.length], [50, 50], state);
      assert.ok(read < 2_000, `${state}: two pages read ${read} rows and index entries`);
    }
    const mail = await store.admin.listJobs({ queue: 'a', state: 'waiting', handler: 'mail/Send', limit: 50 });
    assert.ok(mail.jobs.every((j) => j.handler === 'mail/Send') && mail.next !== null);
  });
});

async function globalReads(db: TestDatabase): Promise<number> {
  const rows = await db.query<Array<{ Value: string }>>("SHOW GLOBAL STATUS LIKE 'Handler_read%'");
  return rows.reduce((sum, r) => sum + Number(r.Value), 0);
}
