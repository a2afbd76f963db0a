// The dashboard's SQLite list queries stay index-driven at 200k rows (issue 18): one queue in
// every state, with the due and the delayed jobs at different priorities, so a statement over
// all priorities with a due condition would read through the other side's entries. Every
// statement Admin.listJobs runs seeks jobs_claim_queue and sorts nothing; a due range is read
// one priority at a time (queue, status, priority, then a range of scheduled_at); the pages
// walked through the store are those of the plain ORDER BY; and a page reads a fraction of the
// file that reading through the 60k delayed entries in front of the due ones does.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { segmentsOf } from '../src/stores/job-list.ts';
import { openStore } from '../src/stores/open-store.ts';
import { NEXT_LIST_PRIORITY, segmentSqlite } from '../src/stores/sqlite/list-jobs.ts';
import { JOB_LIST_SCAN, JOB_LIST_STATES, type JobListSelection, type JobStore } from '../src/stores/store.ts';
import { bytesRead, checkpoint, freshConnection } from './helpers/sqlite-reads.ts';

const dir = mkdtempSync(join(tmpdir(), 'jr-sqlite-list-plan-'));
const file = join(dir, 'jobs.sqlite');
const WINDOW = 51; // a page of 50, and one to know there is a next
let store: JobStore;
let raw: Database.Database;
const now = Date.now();

function plan(sql: string, args: unknown[]): string[] {
  return raw
    .prepare(`EXPLAIN QUERY PLAN ${sql}`)
    .all(...args)
    .map((r) => (r as { detail: string }).detail);
}

/** Asserts that the plan seeks jobs_claim_queue with `seek` (a part of its detail), sorts nothing and scans nothing. */
function assertSeeks(label: string, q: { sql: string; args: unknown[] }, seek: RegExp): void {
  const lines = plan(q.sql, q.args);
  const shown = `${label}: ${lines.join(' | ')}`;
  const search = lines.find((l) => /^SEARCH jobs USING (COVERING )?INDEX jobs_claim_queue \(/.test(l));
  assert.ok(search, `jobs_claim_queue is searched: ${shown}`);
  assert.match(search, seek, shown);
  if (process.env.SHOW_PLANS) console.log(shown);
  assert.ok(!lines.some((l) => /TEMP B-TREE/.test(l)), `no sort: ${shown}`);
  assert.ok(!lines.some((l) => /^SCAN jobs\b/.test(l)), `no scan of jobs: ${shown}`);
}

describe('SQLite listJobs plans at 200k rows', { timeout: 120_000 }, () => {
  before(async () => {
    store = await openStore(`sqlite:${file}`);
    raw = new Database(file, { timeout: 10_000 });
    // Queue 'a': 50k due at priorities -5..5 and 10k due at -7; 60k delayed at -6 (an hour
    // out); 40k processing, 30k failed, 10k blocked; a twentieth of each on queue 'b'. One
    // handler in 100 is mail/Send.
    raw.exec(`
      WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 200000)
      INSERT INTO jobs (handler, queue, payload, status, attempts, created_at, scheduled_at, priority, failed_at, concurrency_key, concurrency_limit)
      SELECT CASE WHEN i % 100 = 7 THEN 'mail/Send' ELSE 'Ok' END, CASE WHEN i % 20 = 3 THEN 'b' ELSE 'a' END, '{}',
             CASE WHEN i <= 120000 THEN 'new' WHEN i <= 160000 THEN 'processing' WHEN i <= 190000 THEN 'failed' ELSE 'blocked' END,
             0, ${now - 60_000},
             CASE WHEN i > 60000 AND i <= 120000 THEN ${now + 3_600_000} + i ELSE ${now - 600_000} + i END,
             CASE WHEN i <= 50000 THEN (i % 11) - 5 WHEN i <= 60000 THEN -7 WHEN i <= 120000 THEN -6 ELSE (i % 11) - 5 END,
             CASE WHEN i > 160000 AND i <= 190000 THEN ${now} END,
             CASE WHEN i > 190000 THEN 'acct-' || (i % 100) END,
             CASE WHEN i > 190000 THEN 1 END
        FROM n`);
    raw.exec('ANALYZE');
  });
  after(async () => {
    raw?.close();
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('every statement seeks jobs_claim_queue and never sorts; due ranges one priority at a time', () => {
    // Cursors in the due range (priority 0) and in the delayed one (priority -6).
    const deep = { priority: 0, dueMs: now - 600_000 + 25_000, id: 25_000 };
    const deepDelayed = { priority: -6, dueMs: now + 3_600_000 + 90_000, id: 90_000 };
    for (const state of JOB_LIST_STATES) {
      for (const seg of segmentsOf(state)) {
        for (const at of [null, deep, deepDelayed]) {
          const label = `${state} ${seg.status}${seg.due ? ` ${seg.due}` : ''} ${at ? `deep at ${at.priority}` : 'first'}`;
          if (seg.due) {
            // queue, status and priority equal, then a range of the due time: no other priority's entries read.
            assertSeeks(
              label,
              segmentSqlite({ queue: 'a' }, seg, at, WINDOW, now, at?.priority ?? 0),
              /queue=\? AND status=\? AND priority=\? AND \(?scheduled_at[<>]/,
            );
          } else {
            assertSeeks(label, segmentSqlite({ queue: 'a' }, seg, at, WINDOW, now), at ? /queue=\? AND status=\? AND \(?priority/ : /queue=\? AND status=\?/);
          }
        }
      }
    }
    assertSeeks('next priority', { sql: NEXT_LIST_PRIORITY, args: ['a', 'new', 0] }, /queue=\? AND status=\? AND priority>\?/);
    assertSeeks(
      'by handler',
      segmentSqlite({ queue: 'a', handler: 'mail/Send' }, segmentsOf('failed')[0]!, deep, JOB_LIST_SCAN, now),
      /queue=\? AND status=\?/,
    );
    const byId = plan(...(Object.values(segmentSqlite({ queue: 'a', id: 7 }, segmentsOf('waiting')[0]!, null, WINDOW, now)) as [string, unknown[]]));
    assert.ok(
      byId.some((l) => /INTEGER PRIMARY KEY|rowid=/.test(l)),
      `by id: ${byId.join(' | ')}`,
    );
  });

  test('pages walked through the store are those of the plain ORDER BY', async () => {
    const expected = (where: string, n: number) =>
      raw
        .prepare<unknown[], { id: number }>(`SELECT id FROM jobs WHERE queue = 'a' AND ${where} ORDER BY priority, scheduled_at, id LIMIT ?`)
        .all(n)
        .map((r) => r.id);
    const walk = async (sel: Omit<JobListSelection, 'limit' | 'after'>, pages: number) => {
      const ids: number[] = [];
      let next: string | null = null;
      for (let p = 0; p < pages; p++) {
        const page = await store.admin.listJobs({ ...sel, limit: 500, after: next });
        ids.push(...page.jobs.map((j) => j.id));
        next = page.next;
        if (next === null) break;
      }
      return ids;
    };
    const due = `scheduled_at <= ${Date.now()}`;
    // Waiting: across the -7 → -5 gap (the delayed -6 between), and on through priorities.
    assert.deepEqual(await walk({ queue: 'a', state: 'waiting' }, 24), expected(`((status = 'new' AND ${due}) OR status = 'blocked')`, 12_000));
    assert.deepEqual(await walk({ queue: 'a', state: 'delayed' }, 3), expected(`status = 'new' AND scheduled_at > ${Date.now()}`, 1_500));
    assert.deepEqual(await walk({ queue: 'a', state: 'failed' }, 3), expected(`status = 'failed'`, 1_500));
    const mail = await store.admin.listJobs({ queue: 'a', state: 'waiting', handler: 'mail/Send', limit: 50 });
    assert.ok(mail.jobs.length > 0 && mail.jobs.every((j) => j.handler === 'mail/Send'));
  });

  test('a page past the delayed priority reads a fraction of the pages a read through it does', async () => {
    // The plan cannot show what a statement over all priorities would read, and a timing is at
    // the machine's mercy: count the bytes each side reads from the file, on fresh connections.
    checkpoint(file);
    // The cursor at the last job of priority -7: the next page moves on to -5, past the 60k delayed at -6.
    const last = raw
      .prepare<[], { id: number; scheduled_at: number }>(
        "SELECT id, scheduled_at FROM jobs WHERE queue = 'a' AND priority = -7 ORDER BY scheduled_at DESC, id DESC LIMIT 1",
      )
      .get()!;
    const cursor = `-7_${last.scheduled_at}_${last.id}`;
    const fresh = await openStore(`sqlite:${file}`);
    const { value: page, bytes: paged } = await bytesRead(() => fresh.admin.listJobs({ queue: 'a', state: 'waiting', limit: 50, after: cursor }));
    await fresh.close();
    assert.equal(page.jobs[0]!.priority, -5, 'the page after -7 starts at -5');
    assert.equal(page.jobs.length, 50);
    const other = freshConnection(file);
    const readThrough = other.prepare<unknown[], { id: number }>(
      `SELECT id FROM jobs INDEXED BY jobs_claim_queue WHERE queue = 'a' AND status = 'new' AND scheduled_at <= ? AND (priority, scheduled_at, id) > (-7, ?, ?)
        ORDER BY priority, scheduled_at, id LIMIT 51`,
    );
    const { bytes: scanned } = await bytesRead(() => readThrough.all(Date.now(), last.scheduled_at, last.id));
    other.close();
    assert.ok(paged > 0, 'the page was read from the file');
    assert.ok(paged * 3 < scanned, `a page reads ${paged} bytes, reading through 60k delayed entries ${scanned}`);
  });
});
