// Shared pieces of the benchmark: fresh stores, the real runtime as a child process, figures.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import mysql from 'mysql2/promise';
import { openStore, useStore, type JobStore } from 'jobs-runtime';
import { deleteKeys } from '../test/helpers/redis.ts';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const BIN = join(ROOT, 'bin/jobs-runtime');
export const JOBS_DIR = join(ROOT, 'bench/jobs');
export type StoreKind = 'mysql' | 'sqlite' | 'redis';

export const now = (): number => performance.timeOrigin + performance.now();
export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export function result(store: StoreKind, workload: string, value: number, unit: string): void {
  const v = Number.isInteger(value) ? String(value) : value.toFixed(2);
  console.log(`RESULT jobs-runtime ${store} ${workload} ${v} ${unit}`);
}

/** Nearest-rank percentile, as the peers' scripts compute it. */
export function pct(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export interface BenchStore {
  kind: StoreKind;
  url: string;
  store: JobStore;
  /** Jobs not yet done (rows left; done jobs are deleted). */
  remaining(): Promise<number>;
  drop(): Promise<void>;
}

const MYSQL_BASE = process.env.JOBS_BENCH_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test';
const REDIS_BASE = process.env.JOBS_BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379/0';

/** A fresh, empty, migrated store, used by this process for dispatches too. */
export async function freshStore(kind: StoreKind, name: string): Promise<BenchStore> {
  let url: string;
  let cleanup: () => Promise<void>;
  if (kind === 'mysql') {
    const base = new URL(MYSQL_BASE);
    const admin = await mysql.createConnection({
      host: base.hostname,
      port: Number(base.port || 3306),
      user: base.username || 'root',
      password: decodeURIComponent(base.password),
    });
    // The pid, as Redis's prefix has it: benches run side by side (a shared machine) must not
    // drop each other's database or wake each other's runtimes (the wake directory follows the URL).
    const db = `jr_bench_${name}_${process.pid}`;
    await admin.query(`DROP DATABASE IF EXISTS ${db}`);
    await admin.query(`CREATE DATABASE ${db}`);
    base.pathname = `/${db}`;
    url = base.toString();
    cleanup = async () => {
      await admin.query(`DROP DATABASE IF EXISTS ${db}`);
      await admin.end();
    };
  } else if (kind === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'jr-bench-'));
    url = `sqlite:${join(dir, 'jobs.sqlite')}`;
    cleanup = async () => rmSync(dir, { recursive: true, force: true });
  } else {
    const u = new URL(REDIS_BASE);
    const prefix = `jrbench:${process.pid}:${name}:`;
    u.searchParams.set('prefix', prefix);
    url = u.toString();
    // Every key of the prefix: drained jobs leave their outcome events (kept for --keep-outcomes,
    // pruned by a runtime that is gone once the bench ends) and the registry's keys behind.
    cleanup = async () => {
      const { Redis } = await import('ioredis');
      const client = new Redis(REDIS_BASE);
      try {
        await deleteKeys(client, prefix);
      } finally {
        client.disconnect();
      }
    };
  }
  const store = await openStore(url, { maxConnections: 4 });
  await store.admin.migrate({});
  useStore(store);
  return {
    kind,
    url,
    store,
    remaining: async () => (await store.admin.counts({})).reduce((n, c) => n + c.waiting + c.delayed + c.processing + c.failed, 0),
    drop: async () => {
      await store.close();
      await cleanup();
    },
  };
}

export interface RuntimeChild {
  child: ChildProcess;
  pid: number;
  logFile: string;
  /** Resolves when it has printed its banner and its threads had time to start. */
  ready: Promise<void>;
  stop(): Promise<number | null>;
}

// Runtimes this process started: stopped with it, also when a timeout kills the bench.
const children = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL');
});
for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => process.exit(130));

/** Starts the real bin/jobs-runtime; its output goes to a file, as in production. */
export function startRuntime(url: string, args: string[], env: NodeJS.ProcessEnv = {}): RuntimeChild {
  const dir = mkdtempSync(join(tmpdir(), 'jr-bench-log-'));
  const logFile = join(dir, 'worker.log');
  const fd = openSync(logFile, 'a');
  // JOBS_BENCH_NODE_ARGS, e.g. '--cpu-prof --cpu-prof-dir=/tmp/prof': profile the runtime itself.
  const nodeArgs = process.env.JOBS_BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
  const child = spawn(process.execPath, [...nodeArgs, BIN, 'start', '--database-url', url, '--jobs-dir', JOBS_DIR, ...args], {
    stdio: ['ignore', fd, fd],
    env: { ...process.env, ...env },
  });
  children.add(child);
  const exited = new Promise<number | null>((r) =>
    child.on('exit', (code) => {
      children.delete(child);
      r(code);
    }),
  );
  const ready = (async () => {
    for (let i = 0; i < 400; i++) {
      if (readFileSync(logFile, 'utf8').includes(' started: ')) {
        await sleep(1500); // threads start and import the job files
        return;
      }
      if (child.exitCode !== null) throw new Error(`the runtime exited early:\n${readFileSync(logFile, 'utf8')}`);
      await sleep(25);
    }
    throw new Error('the runtime did not start within 10 s');
  })();
  return {
    child,
    pid: child.pid!,
    logFile,
    ready,
    stop: async () => {
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 30_000);
      const code = await exited;
      clearTimeout(t);
      closeSync(fd);
      // The log can be large (W5 writes a million lines unless --quiet): kept only on request.
      if (!process.env.JOBS_BENCH_KEEP_LOGS) rmSync(dir, { recursive: true, force: true });
      return code;
    },
  };
}

/**
 * Waits until the store holds no job, returning the time it saw that. Polling the store the
 * whole time would load the database under test (a count scans the table), so, as the peers'
 * scripts wait for their workers' completion events first, this first waits until the
 * runtime's log has `expectedLines` more lines (one per finished job), then polls the store.
 */
export async function waitUntilDone(
  b: BenchStore,
  deadlineMs: number,
  opts: { log?: { file: string; fromByte: number; expectedLines: number }; everyMs?: number } = {},
): Promise<number> {
  const deadline = Date.now() + deadlineMs;
  if (opts.log) await waitForLogLines(opts.log.file, opts.log.fromByte, opts.log.expectedLines, deadline);
  for (;;) {
    if ((await b.remaining()) === 0) return now();
    if (Date.now() > deadline) throw new Error(`jobs not done within ${deadlineMs} ms (${await b.remaining()} left)`);
    await sleep(opts.everyMs ?? 2);
  }
}

/** The log's size now: where waitUntilDone starts counting lines. */
export function logSize(file: string): number {
  return statSync(file).size;
}

async function waitForLogLines(file: string, fromByte: number, expected: number, deadline: number): Promise<void> {
  const fd = openSync(file, 'r');
  const buf = Buffer.alloc(1 << 20);
  let pos = fromByte;
  let lines = 0;
  try {
    while (lines < expected && Date.now() < deadline) {
      const n = readSync(fd, buf, 0, buf.length, pos);
      if (n === 0) {
        await sleep(2);
        continue;
      }
      pos += n;
      for (let i = buf.indexOf(10); i >= 0 && i < n; i = buf.indexOf(10, i + 1)) lines++;
    }
  } finally {
    closeSync(fd);
  }
}

/** RSS of a process in bytes (Linux). */
export function rssOf(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : Number.NaN;
}

/** CPU time (user + system) of a process, in ms (Linux). */
export function cpuMsOf(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (ticks * 1000) / 100; // USER_HZ is 100 on Linux
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}
