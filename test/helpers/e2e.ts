import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { openStore } from '../../src/stores/open-store.ts';
import type { JobStore } from '../../src/stores/store.ts';
import { runCli } from './cli.ts';
import { createMysqlDatabase, type TestDatabase } from './mysql.ts';
import { createRedisPrefix, type TestRedis } from './redis.ts';

// An app as the end-to-end suites see it: a temp directory (the runtime's cwd), a store of one
// kind (MySQL migrated through the real `migrate` command; SQLite a file in the temp dir), the
// store API for dispatching from the test process, and raw SQL for rows the API would refuse.

export const JOBS_DIR = fileURLToPath(new URL('../fixtures/jobs', import.meta.url));
export const STORE_KINDS = ['sqlite', 'mysql'] as const;
/** Redis apps exist for suites that need no SQL (rawInsert and count are SQL-only). */
export type StoreKind = (typeof STORE_KINDS)[number] | 'redis';
/** Every store, for suites that read the store through its API only (`totals`, not `count`). */
export const ALL_STORE_KINDS: readonly StoreKind[] = [...STORE_KINDS, 'redis'];

/** Jobs in the store by state, summed over queues (completed jobs are not kept by default). */
export interface Totals {
  waiting: number;
  delayed: number;
  processing: number;
  failed: number;
}

export interface RawRow {
  handler: string;
  payload: string;
  queue?: string;
  maxAttempts?: number;
  retryAfterMs?: number;
}

export interface E2eApp {
  kind: StoreKind;
  /** Temp directory: the runtime's cwd, and home of the SQLite file, hook files, logs. */
  dir: string;
  url: string;
  store: JobStore;
  /** Arguments every runtime command of this app takes. */
  storeArgs: string[];
  /** Inserts a row with SQL, bypassing every check of the Job API; returns its id. */
  rawInsert(row: RawRow): Promise<number>;
  /** Rows in the jobs table, optionally filtered by an SQL condition. */
  count(where?: string): Promise<number>;
  /** Jobs by state through the store's own counts: works on every store. */
  totals(): Promise<Totals>;
  close(): Promise<void>;
}

/** `parent`: where the app's directory is made (default: the temp directory). */
export async function createApp(kind: StoreKind, suite: string, parent = tmpdir()): Promise<E2eApp> {
  const dir = mkdtempSync(join(parent, `jr-${suite}-`));
  let db: TestDatabase | null = null;
  let sqlite: Database.Database | null = null;
  let redis: TestRedis | null = null;
  let url: string;
  if (kind === 'redis') {
    redis = await createRedisPrefix(suite);
    url = redis.url;
  } else if (kind === 'mysql') {
    db = await createMysqlDatabase(suite);
    url = db.url;
  } else {
    url = `sqlite:${join(dir, 'jobs.sqlite')}`;
  }
  let store: JobStore;
  try {
    if (db) {
      const m = await runCli(['migrate', '--database-url', url], { cwd: dir, timeoutMs: 20_000 });
      assert.equal(m.code, 0, `migrate failed: ${m.stderr}`);
    }
    store = await openStore(url, { maxConnections: 2 });
    await store.admin.migrate({}); // SQLite: the schema exists once opened; MySQL: already up to date
  } catch (e) {
    // Nothing half-made is left open: the suite fails with the store's error, not a hang.
    await db?.drop().catch(() => undefined);
    await redis?.drop().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  if (kind === 'sqlite') sqlite = new Database(join(dir, 'jobs.sqlite'), { timeout: 10_000 });

  return {
    kind,
    dir,
    url,
    store,
    storeArgs: ['--jobs-dir', JOBS_DIR, '--database-url', url],
    async rawInsert(r) {
      if (redis) throw new Error('rawInsert is SQL only');
      const params = [r.handler, r.queue ?? 'default', r.payload, r.maxAttempts ?? 1, r.retryAfterMs ?? 0];
      if (db) {
        const res = await db.query<{ insertId: number }>(
          `INSERT INTO jobs (handler, queue, payload, status, attempts, max_attempts, retry_after_ms, created_at, scheduled_at)
           VALUES (?, ?, ?, 'new', 0, ?, ?, UTC_TIMESTAMP(3), UTC_TIMESTAMP(3))`,
          params,
        );
        return Number(res.insertId);
      }
      const now = Date.now();
      const res = sqlite!
        .prepare(
          `INSERT INTO jobs (handler, queue, payload, status, attempts, max_attempts, retry_after_ms, created_at, scheduled_at)
           VALUES (?, ?, ?, 'new', 0, ?, ?, ?, ?)`,
        )
        .run(...params, now, now);
      return Number(res.lastInsertRowid);
    },
    async count(where = '1 = 1') {
      if (redis) throw new Error('count is SQL only');
      const sql = `SELECT COUNT(*) AS n FROM jobs WHERE ${where}`;
      if (db) return Number((await db.query<Array<{ n: number }>>(sql))[0]!.n);
      return Number((sqlite!.prepare(sql).get() as { n: number }).n);
    },
    async totals() {
      const t: Totals = { waiting: 0, delayed: 0, processing: 0, failed: 0 };
      for (const q of await store.admin.counts({})) {
        t.waiting += q.waiting;
        t.delayed += q.delayed;
        t.processing += q.processing;
        t.failed += q.failed;
      }
      return t;
    },
    async close() {
      await store.close().catch(() => undefined);
      sqlite?.close();
      await db?.drop();
      await redis?.drop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Non-TTY output: every line starts with an ISO timestamp and a level. */
export const PLAIN_LINE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (INFO |WARN |ERROR) /;

export function lines(text: string): string[] {
  return text.split('\n').filter((l) => l.length > 0);
}

/** How many times each id appears in a list. */
export function tally(ids: number[]): Map<number, number> {
  const m = new Map<number, number>();
  for (const id of ids) m.set(id, (m.get(id) ?? 0) + 1);
  return m;
}

/** assert.match without dumping the whole output into the failure message. */
export function assertHas(text: string, re: RegExp, what = String(re)): void {
  assert.ok(re.test(text), `expected output to contain ${what} (${text.length} chars; tail: ${JSON.stringify(text.slice(-600))})`);
}

export function assertHasNot(text: string, re: RegExp, what = String(re)): void {
  const m = re.exec(text);
  assert.ok(!m, `expected output not to contain ${what}, found at: ${JSON.stringify(m ? text.slice(Math.max(0, m.index - 200), m.index + 200) : '')}`);
}

/** Rejects, naming `what`, if `p` has not settled within `ms` (a store call must never hang a suite). */
export function bounded<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms`)), ms);
    }),
  ]);
}

/** An ANSI escape sequence's start (ESC [): output piped or written to a file must have none. */
export const ANSI_ESCAPE = new RegExp(`${String.fromCharCode(27)}\\[`);
