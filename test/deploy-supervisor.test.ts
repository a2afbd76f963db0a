// A real supervisord (Debian's supervisor package) runs the program that
// `install:supervisor --output` wrote, for an app whose directory name needs every kind of
// quoting: the runtime starts and processes jobs; SIGKILLed mid-work it is restarted by
// supervisord and the jobs finish (the dead runtime's claims recovered); `supervisorctl stop`
// stops it gracefully with nothing lost; worker.log holds the plain, timestamped lines.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { killAll, parseJobLines, runCli } from './helpers/cli.ts';
import { createApp, JOBS_DIR, lines, PLAIN_LINE, type E2eApp } from './helpers/e2e.ts';
import { readTrace } from './helpers/reliability.ts';
import { waitFor } from './helpers/wait.ts';
import { jobRow } from './helpers/job-rows.ts';

const NAME = 'jr-test';
const PROCESS = `${NAME}:${NAME}_00`;

let app: E2eApp;
/** The app directory: a space, quotes, '%', '$', a backslash, ';' and '#'. */
let appDir: string;
let conf: string;
let workerLog: string;
let records: string;
let supervisord: ChildProcess | null = null;
const runtimePids = new Set<number>();

function ctl(...args: string[]): { code: number | null; out: string } {
  const r = spawnSync('supervisorctl', ['-c', conf, ...args], { encoding: 'utf8', timeout: 40_000 });
  if (r.error) throw r.error;
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

/** The runtime's pid, once supervisord has started it (0 while it is not running). */
function runtimePid(): number {
  const pid = Number(ctl('pid', PROCESS).out.trim());
  if (Number.isSafeInteger(pid) && pid > 0) runtimePids.add(pid);
  return Number.isSafeInteger(pid) ? pid : 0;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Runs of Records jobs (job id, runtime id), from the file each run appends to. */
function runs(): Array<{ id: number; runtime: string }> {
  if (!existsSync(records)) return [];
  return lines(readFileSync(records, 'utf8')).map((l) => {
    const [id, , runtime] = l.split(' ');
    return { id: Number(id), runtime: runtime! };
  });
}

/** ✔ lines a SIGKILL cut off in the instant between a result's write and its log line. */
let linesLostToKill = 0;

/** Ids of Records jobs that ran, from the file each run appends to. */
function recordedIds(): Set<number> {
  if (!existsSync(records)) return new Set();
  return new Set(lines(readFileSync(records, 'utf8')).map((l) => Number(l.split(' ')[0])));
}

const log = () => (existsSync(workerLog) ? readFileSync(workerLog, 'utf8') : '');

before(async () => {
  app = await createApp('sqlite', 'deploy_supervisor');
  appDir = join(app.dir, `shop app 'q' "dq" 100% $HOME \\x;1#2`);
  mkdirSync(appDir);
  workerLog = join(appDir, 'worker.log');
  records = join(app.dir, 'records.txt');
  // supervisor has no env-file setting: the program runs `node --env-file=<this>`.
  const envFile = join(appDir, 'prod 5% $E.env');
  writeFileSync(envFile, `JOBS_DATABASE_URL=${app.url}\nJOBS_DIR=${JOBS_DIR}\n`);

  const out = join(app.dir, 'conf.d');
  mkdirSync(out);
  const r = await runCli(
    ['install:supervisor', '--output', out, '--name', NAME, '--user', 'root', '--dir', appDir, '--env-file', envFile, '--procs', '2', '--grace', '10'],
    { cwd: app.dir, timeoutMs: 20_000 },
  );
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /supervisorctl reread && supervisorctl update\n/);

  conf = join(app.dir, 'supervisord.conf');
  writeFileSync(
    conf,
    [
      '[unix_http_server]',
      `file=${join(app.dir, 'supervisor.sock')}`,
      '[supervisord]',
      `logfile=${join(app.dir, 'supervisord.log')}`,
      `pidfile=${join(app.dir, 'supervisord.pid')}`,
      `childlogdir=${app.dir}`,
      'nodaemon=true',
      'user=root',
      '[rpcinterface:supervisor]',
      'supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface',
      '[supervisorctl]',
      `serverurl=unix://${join(app.dir, 'supervisor.sock')}`,
      '[include]',
      `files=${out}/*.conf`,
      '',
    ].join('\n'),
  );
  supervisord = spawn('supervisord', ['-n', '-c', conf], { stdio: ['ignore', 'pipe', 'pipe'] });
  supervisord.stdout!.resume();
  supervisord.stderr!.resume();
});

after(async () => {
  // supervisord stops its program on SIGTERM (the program has up to its stopwaitsecs); both
  // are then killed by pid whatever state they are in.
  if (supervisord?.pid && supervisord.exitCode === null) {
    process.kill(supervisord.pid, 'SIGTERM');
    await waitFor('supervisord to exit', () => supervisord!.exitCode !== null || supervisord!.signalCode !== null, 15_000).catch(() => undefined);
    if (supervisord.exitCode === null && supervisord.signalCode === null) process.kill(supervisord.pid, 'SIGKILL');
  }
  for (const pid of runtimePids) if (alive(pid)) process.kill(pid, 'SIGKILL');
  killAll();
  await app?.close();
});

describe('a real supervisord runs the installed program', { timeout: 85_000 }, () => {
  let firstPid = 0;

  test('supervisord starts the runtime from the installed file, and it processes jobs', async () => {
    firstPid = await waitFor('the runtime to be started by supervisord', runtimePid, 20_000, 200);
    await waitFor('the start banner in worker.log', () => /jobs-runtime \S+ started: /.test(log()), 20_000, 100);
    // It runs in the app directory, with the env file node loaded.
    assert.equal(readlinkSync(`/proc/${firstPid}/cwd`), appDir);
    assert.match(log(), /started: store \S+ \(JOBS_DATABASE_URL\), queues all, 2 thread\(s\)/);

    const ids = await app.store.producer.enqueue({ jobs: Array.from({ length: 20 }, (_, n) => jobRow({ handler: 'Records', payload: { file: records, n } })) });
    await waitFor('20 jobs processed', async () => (await app.count()) === 0, 20_000, 50);
    assert.deepEqual(
      [...recordedIds()].sort((a, b) => a - b),
      ids,
    );
  });

  test('SIGKILLed mid-work, it is restarted and the remaining jobs complete', async () => {
    // Sleeps keep both threads busy while the Records wait behind them.
    const sleeps = await app.store.producer.enqueue({ jobs: Array.from({ length: 4 }, () => jobRow({ handler: 'Sleeps', payload: { ms: 1500 } })) });
    const recs = await app.store.producer.enqueue({
      jobs: Array.from({ length: 100 }, (_, n) => jobRow({ handler: 'Records', payload: { file: records, n } })),
    });
    await waitFor('jobs running', async () => (await app.count(`status = 'processing'`)) > 0, 10_000, 20);
    process.kill(firstPid, 'SIGKILL');

    const secondPid = await waitFor(
      'a new runtime',
      () => {
        const pid = runtimePid();
        return pid !== firstPid && pid > 0 ? pid : 0;
      },
      20_000,
      100,
    );
    assert.equal(alive(firstPid), false);
    assert.notEqual(secondPid, firstPid);
    await waitFor('every job done', async () => (await app.count()) === 0, 30_000, 100);
    const done = recordedIds();
    for (const id of recs) assert.ok(done.has(id), `job ${id} ran`);
    // The killed runtime's claims were given back by its successor (its pid is gone on this host).
    assert.match(log(), /Recovered 1 dead runtime\(s\)/);
    // A ✔ line follows its result's write, so it may come just after the row is gone; and a
    // SIGKILL in the instant between a write and its lines leaves those jobs done without a
    // line (never a line for a job that is not done). Every job the new runtime ran has its line.
    const runsBySecond = new Set(
      runs()
        .filter((r) => r.runtime.includes(`:${secondPid}:`))
        .map((r) => r.id),
    );
    await waitFor('a ✔ line for every job the new runtime ran', () => [...runsBySecond].every((id) => parseJobLines(log()).ok.includes(id)), 10_000, 50);
    const ok = new Set(parseJobLines(log()).ok);
    const missing = [...sleeps, ...recs].filter((id) => !ok.has(id));
    for (const id of missing) {
      assert.ok(!runsBySecond.has(id) && recs.includes(id), `job ${id} has no ✔ line although it did not run only on the killed runtime`);
    }
    linesLostToKill = missing.length;
  });

  test('supervisorctl stop stops it gracefully: running jobs finish, the others are given back, nothing is lost', async () => {
    const pid = runtimePid();
    const trace = join(app.dir, 'stop-trace.txt');
    const slow = await app.store.producer.enqueue({
      jobs: Array.from({ length: 6 }, () => jobRow({ handler: 'Traced', payload: { file: trace, ms: 2000, traceStart: true } })),
    });
    await waitFor('two jobs running in their threads', () => readTrace(trace).filter((l) => l.kind === 'start').length >= 2, 10_000, 20);
    const t0 = Date.now();
    const stop = ctl('stop', PROCESS);
    const stopMs = Date.now() - t0;
    assert.equal(stop.code, 0, stop.out);
    assert.match(stop.out, new RegExp(`${NAME}_00: stopped`));
    assert.ok(stopMs < 10_000, `stopped within the grace period (${stopMs} ms)`);
    assert.equal(alive(pid), false);
    assert.match(ctl('status', PROCESS).out, /STOPPED/);
    assert.match(readFileSync(join(app.dir, 'supervisord.log'), 'utf8'), new RegExp(`stopped: ${NAME}_00 \\(exit status 0\\)`));

    // Nothing left claimed; each job either finished (row gone, ✔ line) or is waiting again, its attempt not charged.
    assert.equal(await app.count(`status = 'processing'`), 0);
    const ok = new Set(parseJobLines(log()).ok);
    const finished = slow.filter((id) => ok.has(id));
    assert.ok(finished.length >= 2, `the running jobs finished (${finished.length})`);
    assert.equal(await app.count(), slow.length - finished.length);
    assert.equal(await app.count(`status = 'new' AND attempts = 0`), slow.length - finished.length);
    assert.match(log(), /SIGTERM received: stopping/);
    assert.match(log(), /jobs-runtime stopped: \d+ completed, 0 failed, 0 retried, \d+ given back/);

    // Started again, it runs the rest.
    assert.equal(ctl('start', PROCESS).code, 0);
    await waitFor('the given-back jobs done', async () => (await app.count()) === 0, 30_000, 100);
  });

  test('worker.log: plain lines with timestamp and level, the ✔ lines of every job', () => {
    const all = lines(log());
    assert.ok(all.length > 100);
    for (const line of all) assert.match(line, PLAIN_LINE);
    const okLines = all.filter((l) => l.includes('✔ Job processed successfully: ')).length;
    assert.ok(okLines >= 130 - linesLostToKill, `${okLines} ✔ lines (${linesLostToKill} lost to the SIGKILL)`);
    assert.equal(all.filter((l) => / started: store /.test(l)).length, 3, 'three starts: first, after SIGKILL, after stop/start');
  });
});
