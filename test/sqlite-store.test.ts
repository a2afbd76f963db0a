// SQLite specifics: how its URL is read, several processes opening a file of an older schema at
// the same moment (a deploy that restarts every runtime at once), a file from before flow
// control (issue 15) upgraded in place, and the orphan sweep's part in concurrency slots.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { InvalidInputError, StoreUnavailableError } from '../src/errors.ts';
import { openStore } from '../src/stores/open-store.ts';

const dir = mkdtempSync(join(tmpdir(), 'jr-sqlite-store-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const OPEN_STORE = new URL('../dist/src/stores/open-store.js', import.meta.url).href;

/** A process that opens `file` at `at` (ms since the epoch), busy-waiting the last stretch. */
function openAt(file: string, at: number): Promise<{ code: number | null; stderr: string }> {
  const script = `const { openStore } = await import(${JSON.stringify(OPEN_STORE)});
    while (Date.now() < ${at}) {}
    (await openStore(${JSON.stringify(`sqlite:${file}`)})).close();`;
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    child.on('exit', (code) => resolve({ code, stderr }));
  });
}

describe('SQLite store', () => {
  test('a URL with a host part or parameters is refused, never opened somewhere else', async () => {
    const cases: Array<[string, RegExp]> = [
      ['sqlite://data/jobs.sqlite', /has a host part \('data'\): use sqlite:\.\/data\/jobs\.sqlite for a relative path, or sqlite:\/\/\/abs\/path/],
      ['sqlite://./jobs.sqlite', /has a host part \('\.'\): use sqlite:\.\/jobs\.sqlite/],
      ['sqlite:./jobs.sqlite?mode=ro', /Unknown parameter 'mode' in the SQLite URL 'sqlite:\.\/jobs\.sqlite\?mode=ro': it takes none/],
    ];
    for (const [url, message] of cases) {
      await assert.rejects(openStore(url), (e: Error) => e instanceof InvalidInputError && message.test(e.message), url);
    }
    const store = await openStore(`sqlite://localhost${join(dir, 'local.sqlite')}`);
    assert.equal(store.displayUrl, `sqlite:${join(dir, 'local.sqlite')}`);
    await store.close();
  });

  test('a file that cannot be opened is a StoreUnavailableError naming it and the usual causes', async () => {
    const notADir = join(dir, 'plain-file');
    writeFileSync(notADir, '');
    await assert.rejects(
      openStore(`sqlite:${notADir}/jobs.sqlite`),
      (e: Error) =>
        e instanceof StoreUnavailableError &&
        e.message.startsWith(`Cannot open the SQLite file ${notADir}/jobs.sqlite (`) &&
        /must exist or be creatable, and be writable by this user/.test(e.message),
    );
  });

  test('four processes opening a file of an older schema at once: each starts, the columns are added once', { timeout: 120_000 }, async () => {
    for (let round = 0; round < 4; round++) {
      const file = join(dir, `old-${round}.sqlite`);
      // A current file, then made old: the columns added since the first release are dropped.
      (await openStore(`sqlite:${file}`)).close();
      const db = new Database(file);
      db.exec('ALTER TABLE jobs DROP COLUMN interruptions; ALTER TABLE jobs DROP COLUMN completed_at');
      db.close();
      // Each process loads the store module, then waits for the same instant to open the file.
      const at = Date.now() + 2_000;
      const runs = await Promise.all(Array.from({ length: 4 }, () => openAt(file, at)));
      for (const [i, r] of runs.entries()) assert.equal(r.code, 0, `round ${round}, process ${i}: ${r.stderr}`);
      const check = new Database(file, { readonly: true });
      const columns = check
        .prepare<[], { name: string }>('PRAGMA table_info(jobs)')
        .all()
        .map((c) => c.name);
      check.close();
      assert.ok(columns.includes('interruptions') && columns.includes('completed_at'), columns.join(', '));
    }
  });

  test('a file from before flow control gets its columns and indexes in place, its jobs kept', async () => {
    const file = join(dir, 'pre-flow.sqlite');
    // A current file, then made old: the flow indexes and columns dropped, the claim indexes as they were.
    await (await openStore(`sqlite:${file}`)).close();
    const old = new Database(file);
    old.exec(`DROP INDEX jobs_unique; DROP INDEX jobs_concurrency; DROP INDEX jobs_claim; DROP INDEX jobs_claim_queue;
      CREATE INDEX jobs_claim ON jobs (status, scheduled_at, id); CREATE INDEX jobs_claim_queue ON jobs (queue, status, scheduled_at, id);`);
    for (const c of ['priority', 'retry_policy', 'unique_key', 'unique_until', 'unique_expires_at', 'concurrency_key', 'concurrency_limit'])
      old.exec(`ALTER TABLE jobs DROP COLUMN ${c}`);
    old.prepare("INSERT INTO jobs (handler, queue, payload, created_at, scheduled_at) VALUES ('Old', 'up', '{}', ?, ?)").run(Date.now(), Date.now());
    old.close();
    const store = await openStore(`sqlite:${file}`);
    try {
      const check = new Database(file, { readonly: true });
      const columnsOf = (index: string) =>
        check
          .prepare<[], { name: string }>(`PRAGMA index_info(${index})`)
          .all()
          .map((c) => c.name)
          .join(', ');
      assert.equal(columnsOf('jobs_claim'), 'status, priority, scheduled_at, id');
      assert.equal(columnsOf('jobs_claim_queue'), 'queue, status, priority, scheduled_at, id');
      assert.equal(columnsOf('jobs_unique'), 'handler, unique_key');
      check.close();
      const [urgent] = await store.producer.enqueue({
        jobs: [{ handler: 'New', queue: 'up', payload: '{}', delayMs: 0, maxAttempts: 1, retryAfterMs: 0, timeoutMs: null, priority: -1 }],
      });
      const claimed = await store.queue.claim({ owner: 'o', queues: ['up'], limit: 5 });
      assert.deepEqual(
        claimed.map((j) => [j.handler, j.priority]),
        [
          ['New', -1],
          ['Old', 0],
        ],
      );
      assert.equal(claimed[0]!.id, urgent);
    } finally {
      await store.close();
    }
  });
});
