import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Redis } from 'ioredis';
import mysql from 'mysql2/promise';
import type { JobId, JobStore, NewJob } from '../../src/stores/store.ts';
import { runCli, startCli, type CliResult, type RunningCli } from './cli.ts';
import { JOBS_DIR } from './e2e.ts';
import { claimsById, type StoreFactory, type StoreFixture } from './stores.ts';
import { waitFor } from './wait.ts';

// The operations suites: a fresh store of one kind, the real CLI pointed at it (cwd a temp
// directory), and a few ways to put rows in a known state through the store API.

export interface OpsApp {
  kind: string;
  url: string;
  store: JobStore;
  dir: string;
  /** Runs a command to its end with this store and the fixture jobs. */
  cli(args: string[], options?: { timeoutMs?: number }): Promise<CliResult>;
  /** Starts a long-running command (a runtime) with this store and the fixture jobs. */
  start(args: string[]): RunningCli;
  cleanup(): Promise<void>;
}

export async function createOpsApp(factory: StoreFactory, suite: string): Promise<OpsApp> {
  const fx: StoreFixture = await factory.create(suite);
  const dir = mkdtempSync(join(tmpdir(), `jr-${suite}-`));
  const storeArgs = ['--database-url', fx.url, '--jobs-dir', JOBS_DIR];
  return {
    kind: fx.kind,
    url: fx.url,
    store: fx.store,
    dir,
    cli: (args, options = {}) => runCli([...args, ...storeArgs], { cwd: dir, timeoutMs: options.timeoutMs ?? 30_000 }),
    start: (args) => startCli([...args, ...storeArgs], { cwd: dir, timeoutMs: 90_000 }),
    async cleanup() {
      await fx.cleanup();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function newJob(queue: string, over: Partial<NewJob> = {}): NewJob {
  return { handler: 'Ok', queue, payload: '{}', delayMs: 0, maxAttempts: 1, retryAfterMs: 0, timeoutMs: null, ...over };
}

/** Enqueues one job per handler on `queue`, claims them as `owner` and records each as failed. */
export async function failJobs(store: JobStore, queue: string, handlers: string[], owner = 'test-owner'): Promise<JobId[]> {
  const ids = await store.producer.enqueue({
    jobs: handlers.map((handler) => newJob(queue, { handler, payload: JSON.stringify({ to: `${handler}@example.com` }) })),
  });
  const claimed = await store.queue.claim({ owner, queues: [queue], limit: ids.length });
  if (claimed.length !== ids.length) throw new Error(`claimed ${claimed.length} of ${ids.length} on ${queue}: is the queue shared?`);
  const claim = claimsById(claimed);
  await store.queue.record({
    owner,
    results: ids.map((id) => ({ ...claim(id), queue, outcome: 'failed' as const, error: `Error: job ${id} failed\n    at run (job.ts:3:11)` })),
  });
  return ids;
}

/** Claims and completes `n` new jobs on `queue` (the rows are deleted; the throughput counters keep them). */
export async function completeJobs(store: JobStore, queue: string, n: number, keepCompleted = false): Promise<JobId[]> {
  const ids = await store.producer.enqueue({ jobs: Array.from({ length: n }, () => newJob(queue)) });
  const claim = claimsById(await store.queue.claim({ owner: 'test-owner', queues: [queue], limit: n }));
  await store.queue.record({ owner: 'test-owner', results: ids.map((id) => ({ ...claim(id), queue, outcome: 'completed' as const })), keepCompleted });
  return ids;
}

/** Moves a registered runtime's last heartbeat `ms` into the past, with each store's own raw access. */
export async function ageHeartbeat(app: OpsApp, runtimeId: string, ms: number): Promise<void> {
  if (app.kind === 'sqlite') {
    const db = new Database(app.url.replace(/^sqlite:/, ''), { timeout: 10_000 });
    try {
      db.prepare('UPDATE jobs_runtimes SET heartbeat_at = heartbeat_at - ? WHERE id = ?').run(ms, runtimeId);
    } finally {
      db.close();
    }
  } else if (app.kind === 'mysql') {
    const conn = await mysql.createConnection({ uri: app.url, timezone: 'Z' });
    try {
      await conn.query('UPDATE jobs_runtimes SET heartbeat_at = heartbeat_at - INTERVAL ? MICROSECOND WHERE id = ?', [ms * 1000, runtimeId]);
    } finally {
      await conn.end();
    }
  } else {
    await withRedis(app, async (client, prefix) => {
      const at = Number(await client.hget(`${prefix}runtime:${runtimeId}`, 'heartbeat_at')) - ms;
      await client.hset(`${prefix}runtime:${runtimeId}`, 'heartbeat_at', String(at));
      await client.zadd(`${prefix}runtimes`, at, runtimeId);
    });
  }
}

/**
 * Moves the failure time (or completion time) of jobs `ms` into the past, with each store's own
 * raw access: age filters and retention can then be tested without waiting.
 */
export async function ageJobs(app: OpsApp, ids: JobId[], ms: number, what: 'failed' | 'completed'): Promise<void> {
  const column = what === 'failed' ? 'failed_at' : 'completed_at';
  if (app.kind === 'sqlite') {
    const db = new Database(app.url.replace(/^sqlite:/, ''), { timeout: 10_000 });
    try {
      db.prepare(`UPDATE jobs SET ${column} = ${column} - ? WHERE id IN (SELECT value FROM json_each(?))`).run(ms, JSON.stringify(ids));
    } finally {
      db.close();
    }
  } else if (app.kind === 'mysql') {
    const conn = await mysql.createConnection({ uri: app.url, timezone: 'Z' });
    try {
      await conn.query(`UPDATE jobs SET ${column} = ${column} - INTERVAL ? MICROSECOND WHERE id IN (?)`, [ms * 1000, ids]);
    } finally {
      await conn.end();
    }
  } else {
    await withRedis(app, async (client, prefix) => {
      for (const id of ids) {
        const [queue, failedAt] = await client.hmget(`${prefix}job:${id}`, 'queue', 'failed_at');
        const set = `${prefix}${what}:${queue}`;
        const memberId = String(id).padStart(16, '0');
        const at = (what === 'failed' ? Number(failedAt) : Number(await client.zscore(set, memberId))) - ms;
        if (what === 'failed') await client.hset(`${prefix}job:${id}`, 'failed_at', String(at));
        await client.zadd(set, at, memberId);
      }
    });
  }
}

async function withRedis(app: OpsApp, fn: (client: Redis, prefix: string) => Promise<void>): Promise<void> {
  const url = new URL(app.url);
  const prefix = url.searchParams.get('prefix')!;
  url.search = '';
  const client = new Redis(url.toString(), { lazyConnect: true, retryStrategy: () => null });
  try {
    await client.connect();
    await fn(client, prefix);
  } finally {
    client.disconnect();
  }
}

/** Waits for a runtime's start banner (its id is the last word); fails naming what it printed. */
export function waitForStart(cli: RunningCli, timeoutMs = 20_000): Promise<string> {
  return waitFor(
    `the banner of runtime pid ${cli.pid} (stderr: ${cli.stderr().slice(-300)})`,
    () => /started: .*, id (\S+)$/m.exec(cli.stdout())?.[1] ?? null,
    timeoutMs,
  );
}

/** Waits (bounded) for a started command to exit. */
export async function exited(cli: RunningCli, timeoutMs = 20_000): Promise<CliResult> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`pid ${cli.pid} did not exit within ${timeoutMs} ms; stdout tail: ${cli.stdout().slice(-500)}`)), timeoutMs);
  });
  try {
    return await Promise.race([cli.done, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Splits a plain-text table row into its cells (cells hold no double spaces). */
export function cells(line: string): string[] {
  return line.trim().split(/\s{2,}/);
}

/** The row of a printed table whose first cell is `first`. */
export function row(text: string, first: string): string[] | undefined {
  return text
    .split('\n')
    .map(cells)
    .find((c) => c[0] === first);
}
