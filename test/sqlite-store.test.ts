// SQLite specifics: how its URL is read, and several processes opening a file of an older
// schema at the same moment (a deploy that restarts every runtime at once).
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
});
