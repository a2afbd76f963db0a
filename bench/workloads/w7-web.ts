// W7 web: a web server in a process of its own (bench/w7-server.mjs, node:http) whose POST
// /signup dispatches one job and answers 202, loaded by autocannon (50 connections) while
// `start --procs 2` consumes on the same machine. Reports the server's req/s and p50/p99, the
// runtime's CPU per 1,000 jobs (whole process: master and threads, from /proc), how long the
// backlog took to drain after the load, and whether every answered request ran exactly once
// (each job appends its request id to a file). For reference, the runtime's CPU per 1,000 of
// the same jobs taken from a backlog (dispatchMany, then one wake-up), as W1 takes them.
// The BullMQ variant (--compare): queue.add in the same server, a Worker of concurrency 2.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, readSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { wakeRuntimes } from '../../dist/src/wake/wake-sender.js';
import SignupMail from '../jobs/SignupMail.mjs';
import { cpuMsOf, freshStore, now, ROOT, result, sleep, startRuntime, type StoreKind } from '../lib.ts';

export interface WebFigures {
  reqPerS: number;
  p50: number;
  p99: number;
  /** CPU seconds of the consumer per 1,000 jobs, from the load's start to the drain's end (printed as ms). */
  cpuPer1k: number;
  drainMs: number;
  /** The same consumer's CPU seconds per 1,000 jobs from a backlog (jobs-runtime only). */
  backlogCpuPer1k?: number;
  serverCpuPer1k: number;
  /**
   * The store server's CPU (mariadbd, redis-server) per 1,000 jobs, as the consumer's: from the
   * load's start to the drain's end (a consumer that falls behind makes the store work after the
   * load). Absent for SQLite (in the processes).
   */
  storeCpuPer1k?: number;
  /** This process's CPU (autocannon, the load's client) per 1,000 requests during the load. */
  clientCpuPer1k: number;
}

export interface WebSizes {
  seconds: number;
  connections: number;
  backlog: number;
}

const REDIS_PREFIX_BASE = `jrbench:${process.pid}:`;

export async function w7(kind: StoreKind, sizes: WebSizes): Promise<WebFigures> {
  const b = await freshStore(kind, 'w7');
  const dir = mkdtempSync(join(tmpdir(), 'jr-w7-'));
  const runtime = startRuntime(b.url, ['--procs', '2']);
  let server: Child | null = null;
  try {
    await runtime.ready;
    const file = join(dir, 'runs.txt');
    server = await child(['bench/w7-server.mjs', file], { JOBS_DATABASE_URL: b.url }, /^listening (\d+)$/m);
    const f = await load(`jobs-runtime ${kind}`, server, runtime.pid, file, sizes, storeServerPid(kind));
    // The reference: the same job, from a backlog, on the same runtime (W1's way).
    const backlogFile = join(dir, 'backlog.txt');
    const payloads = Array.from({ length: sizes.backlog }, (_, i) => ({ requestId: `b${i}`, file: backlogFile }));
    // CPU counted from before the backlog is written: the runtime's poll may start on it meanwhile.
    const c0 = cpuMsOf(runtime.pid);
    process.env.JOBS_WAKE = '0';
    for (let i = 0; i < payloads.length; i += 1000) await SignupMail.dispatchMany(payloads.slice(i, i + 1000));
    process.env.JOBS_WAKE = '1';
    wakeRuntimes(b.store.displayUrl);
    const lines = new LineCounter(backlogFile);
    for (let i = 0; lines.count() < sizes.backlog; i++) {
      if (i > 60_000) throw new Error(`W7 backlog: ${lines.count()} of ${sizes.backlog} jobs ran in 60 s`);
      await sleep(1);
    }
    f.backlogCpuPer1k = (cpuMsOf(runtime.pid) - c0) / sizes.backlog;
    report(`jobs-runtime`, kind, f);
    return f;
  } finally {
    await server?.stop();
    await runtime.stop();
    await b.drop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** BullMQ: the same server with queue.add, a Worker (concurrency 2) in its own process. */
export async function w7BullMQ(sizes: WebSizes): Promise<WebFigures> {
  const dir = mkdtempSync(join(tmpdir(), 'jr-w7b-'));
  const file = join(dir, 'runs.txt');
  const prefix = `${REDIS_PREFIX_BASE}bull`;
  let server: Child | null = null;
  let worker: Child | null = null;
  try {
    worker = await child(['bench/w7-bullmq.mjs', 'worker', prefix, file], {}, /^ready$/m);
    server = await child(['bench/w7-bullmq.mjs', 'server', prefix, file], {}, /^listening (\d+)$/m);
    const f = await load('bullmq', server, worker.pid, file, sizes, storeServerPid('redis'));
    report('bullmq', 'redis', f);
    return f;
  } finally {
    await server?.stop(); // removes the queue's keys
    await worker?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Loads the server, then waits for every answered request's job; checks each ran once. */
async function load(name: string, server: Child, consumerPid: number, file: string, sizes: WebSizes, storePid: number | null): Promise<WebFigures> {
  const lines = new LineCounter(file);
  await waitForLines(lines, 1, 10_000, name); // the warm-up job has run: the consumer is up
  const c0 = cpuMsOf(consumerPid);
  const s0 = cpuMsOf(server.pid);
  const d0 = storePid === null ? 0 : cpuMsOf(storePid);
  const a0 = process.cpuUsage();
  const r = await autocannon({
    url: `http://127.0.0.1:${server.port}/signup`,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{"email":"ann@example.com"}',
    connections: sizes.connections,
    duration: sizes.seconds,
  });
  const loadEnd = now();
  const client = process.cpuUsage(a0);
  if (r.errors > 0 || r.non2xx > 0) throw new Error(`${name}: ${r.errors} errors, ${r.non2xx} non-2xx answers`);
  // Requests in flight when the load stopped were dispatched too, but autocannon does not count them.
  const answered = Number(await (await fetch(`http://127.0.0.1:${server.port}/dispatched`)).text());
  if (answered < r['2xx']) throw new Error(`${name}: the server dispatched ${answered} jobs, autocannon saw ${r['2xx']} answers`);
  const serverCpu = cpuMsOf(server.pid) - s0;
  await waitForLines(lines, answered + 1, 120_000, name);
  const drainMs = now() - loadEnd;
  const cpu = cpuMsOf(consumerPid) - c0;
  const storeCpu = storePid === null ? null : cpuMsOf(storePid) - d0;
  // Exactly once: every answered request's id once, the warm-up's once, nothing else.
  await sleep(200); // a job that ran twice would show within this
  const ids = readFileSync(file, 'utf8').split('\n').filter(Boolean);
  const distinct = new Set(ids).size;
  if (ids.length !== answered + 1 || distinct !== ids.length) {
    throw new Error(`${name}: ${answered} jobs dispatched (+1 warm-up), ${ids.length} runs recorded, ${distinct} distinct request ids`);
  }
  console.log(`# ${name}: ${r['2xx']} requests answered in the window, ${answered} dispatched, each job ran once (+ the warm-up)`);
  return {
    reqPerS: r.requests.average,
    p50: r.latency.p50,
    p99: r.latency.p99,
    cpuPer1k: cpu / answered,
    drainMs,
    serverCpuPer1k: serverCpu / answered,
    ...(storeCpu === null ? {} : { storeCpuPer1k: storeCpu / answered }),
    clientCpuPer1k: (client.user + client.system) / 1000 / answered,
  };
}

function report(peer: string, kind: string, f: WebFigures): void {
  if (peer === 'jobs-runtime') {
    const k = kind as StoreKind;
    result(k, 'w7-req/s', f.reqPerS, 'req/s');
    result(k, 'w7-p50', f.p50, 'ms');
    result(k, 'w7-p99', f.p99, 'ms');
    result(k, 'w7-cpu-per-1k', f.cpuPer1k * 1000, 'ms');
    result(k, 'w7-backlog-cpu-per-1k', (f.backlogCpuPer1k ?? Number.NaN) * 1000, 'ms');
    result(k, 'w7-server-cpu-per-1k', f.serverCpuPer1k * 1000, 'ms');
    if (f.storeCpuPer1k !== undefined) result(k, 'w7-store-cpu-per-1k', f.storeCpuPer1k * 1000, 'ms');
    result(k, 'w7-client-cpu-per-1k', f.clientCpuPer1k * 1000, 'ms');
    result(k, 'w7-drain', f.drainMs, 'ms');
  } else {
    // As the peers' scripts print theirs (bench/peers.ts reads "RESULT <peer> <workload> <value> <unit>").
    const line = (w: string, v: number, unit: string) => console.log(`RESULT ${peer} ${w} ${Number.isInteger(v) ? v : v.toFixed(3)} ${unit}`);
    line('w7-req/s', f.reqPerS, 'req/s');
    line('w7-p50', f.p50, 'ms');
    line('w7-p99', f.p99, 'ms');
    line('w7-cpu-per-1k', f.cpuPer1k * 1000, 'ms');
    line('w7-server-cpu-per-1k', f.serverCpuPer1k * 1000, 'ms');
    if (f.storeCpuPer1k !== undefined) line('w7-store-cpu-per-1k', f.storeCpuPer1k * 1000, 'ms');
    line('w7-client-cpu-per-1k', f.clientCpuPer1k * 1000, 'ms');
    line('w7-drain', f.drainMs, 'ms');
  }
}

/** The store server's process on this machine (its CPU is part of every request's cost), if found. */
function storeServerPid(kind: StoreKind): number | null {
  if (kind === 'sqlite') return null;
  try {
    const pids = execFileSync('pidof', [kind === 'mysql' ? 'mariadbd' : 'redis-server'], { encoding: 'utf8' })
      .trim()
      .split(/\s+/);
    return pids.length === 1 ? Number(pids[0]) : null; // several servers: which one is ours is not known
  } catch {
    return null; // not found (another server binary, or on another host)
  }
}

interface Child {
  pid: number;
  port: number;
  stop(): Promise<void>;
}

// Children this process started, killed with it (as lib.ts does for runtimes).
const started = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of started) c.kill('SIGKILL');
});

/** Starts `node <args>` in the repository; resolves once its stdout matches `ready` (group 1: the port). */
async function child(args: string[], env: NodeJS.ProcessEnv, ready: RegExp): Promise<Child> {
  // JOBS_BENCH_NODE_ARGS (e.g. '--cpu-prof --cpu-prof-dir=/tmp/prof') profiles the server too, as lib.ts the runtime.
  const nodeArgs = process.env.JOBS_BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
  const p = spawn(process.execPath, [...nodeArgs, ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  started.add(p);
  let out = '';
  const exited = new Promise<void>((r) => p.on('exit', () => r()));
  const port = await new Promise<number>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${args.join(' ')} did not start within 20 s: ${out}`)), 20_000);
    p.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = ready.exec(out);
      if (m) {
        clearTimeout(t);
        resolve(Number(m[1] ?? 0));
      }
    });
    p.on('exit', (code) => reject(new Error(`${args.join(' ')} exited (${code}) before it was ready: ${out}`)));
  });
  return {
    pid: p.pid!,
    port,
    stop: async () => {
      p.kill('SIGTERM');
      const t = setTimeout(() => p.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(t);
      started.delete(p);
    },
  };
}

/** Counts the lines of a file as it grows, reading only what was appended. */
class LineCounter {
  private pos = 0;
  private lines = 0;
  private readonly buf = Buffer.alloc(1 << 16);
  constructor(private readonly file: string) {}
  count(): number {
    let fd: number;
    try {
      fd = openSync(this.file, 'r');
    } catch {
      return 0; // nothing ran yet
    }
    try {
      for (let n = readSync(fd, this.buf, 0, this.buf.length, this.pos); n > 0; n = readSync(fd, this.buf, 0, this.buf.length, this.pos)) {
        this.pos += n;
        for (let i = this.buf.indexOf(10); i >= 0 && i < n; i = this.buf.indexOf(10, i + 1)) this.lines++;
      }
    } finally {
      closeSync(fd);
    }
    return this.lines;
  }
}

async function waitForLines(lines: LineCounter, expected: number, timeoutMs: number, name: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (lines.count() < expected) {
    if (Date.now() > deadline) throw new Error(`${name}: ${lines.count()} of ${expected} jobs ran within ${timeoutMs} ms`);
    await sleep(1);
  }
}
