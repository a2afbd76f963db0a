// The units install:systemd generates, run by a real systemd (Debian's, booted in an nspawn
// container; see helpers/nspawn.ts), the way an operator relies on them. The app directory
// (SQLite store, env file, worker.log) is bind-mounted at the same path inside and out, so
// jobs are dispatched from this process while the unit runs them; the node binary and this
// checkout are bind-mounted read-only. The runtime runs as an unprivileged user made inside.
// Each step waits on what systemd reports (`systemctl show`), bounded; the figures it prints
// are the ones the README quotes.
import assert from 'node:assert/strict';
import { chownSync, existsSync, readdirSync, readFileSync, realpathSync, renameSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { parseJobLines } from './helpers/cli.ts';
import { createApp, JOBS_DIR, lines, type E2eApp } from './helpers/e2e.ts';
import { Container, nspawnRoot } from './helpers/nspawn.ts';
import { waitFor } from './helpers/wait.ts';
import { jobRow } from './helpers/job-rows.ts';

const CHECKOUT = realpathSync(fileURLToPath(new URL('..', import.meta.url)));
// Inside the container the checkout and node sit where the unit's sandbox hides nothing
// (PrivateTmp would hide a checkout under /tmp, ProtectHome one under /home).
const IN_CHECKOUT = '/opt/jobs-runtime';
const IN_NODE = '/opt/jobs-runtime-node/node';
const BIN = join(IN_CHECKOUT, 'bin', 'jobs-runtime');
const IN_JOBS_DIR = join(IN_CHECKOUT, relative(CHECKOUT, JOBS_DIR));
const UNIT = 'jr-sd.service';
const GRACE_S = 5;

let app: E2eApp;
let c: Container;
let records: string;
let workerLog: string;

const log = () => (existsSync(workerLog) ? readFileSync(workerLog, 'utf8') : '');
const recordedIds = () => (existsSync(records) ? lines(readFileSync(records, 'utf8')).map((l) => Number(l.split(' ')[0])) : []);
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** Runs `jobs-runtime` inside the container, in the app directory, as root (as an operator would). */
const jobsRuntime = (...args: string[]) => c.ok([IN_NODE, BIN, ...args], { cwd: app.dir });

/** The unit's main pid once it is active and running (and not `not`, the pid it had before). */
function running(unit: string, timeoutMs: number, not = 0): Promise<number> {
  return waitFor(
    `${unit} active with a new main pid`,
    () => {
      const s = c.show(unit, 'ActiveState', 'SubState', 'MainPID');
      const pid = Number(s.MainPID);
      if (s.ActiveState === 'failed') throw new Error(`${unit} failed:\n${c.journal(unit)}`);
      return s.ActiveState === 'active' && s.SubState === 'running' && pid > 0 && pid !== not ? pid : 0;
    },
    timeoutMs,
    50,
  );
}

/** A drop-in, as `systemctl edit` writes one; null removes it. Applied by daemon-reload and a restart. */
function dropIn(unit: string, text: string | null): void {
  const path = `/etc/systemd/system/${unit}.d/test.conf`;
  if (text === null) c.ok(['rm', '-f', path]);
  else c.write(path, text);
  c.ok(['systemctl', 'daemon-reload']);
}

/** ExecStart= of the generated unit, with more `start` options, for a drop-in. */
function execStartWith(unitFile: string, ...more: string[]): string {
  const exec = c.ok(['cat', unitFile]).match(/^ExecStart=(.*)$/m)![1]!;
  return `[Service]\nExecStart=\nExecStart=${exec} ${more.join(' ')}\n`;
}

before(
  async () => {
    const root = nspawnRoot(280_000); // built on first use: about a minute
    // /srv, as for a real app: the unit's default sandbox (ProtectSystem=full, PrivateTmp) applies.
    app = await createApp('sqlite', 'systemd_real', '/srv');
    records = join(app.dir, 'records.txt');
    workerLog = join(app.dir, 'worker.log');
    writeFileSync(join(app.dir, 'prod.env'), `JOBS_DATABASE_URL=${app.url}\nJOBS_DIR=${IN_JOBS_DIR}\n`);
    c = await Container.boot({
      root,
      machine: `jr-test-${process.pid}`,
      bindRo: [`${realpathSync(process.execPath)}:${IN_NODE}`, `${CHECKOUT}:${IN_CHECKOUT}`],
      bind: [app.dir],
      timeoutMs: 60_000,
    });
    c.ok(['useradd', '--system', '--no-create-home', '--home-dir', '/nonexistent', '--shell', '/usr/sbin/nologin', 'jrapp']);
    // The app directory belongs to the runtime's user, which install:systemd then defaults to.
    const uid = Number(c.ok(['id', '-u', 'jrapp']));
    const gid = Number(c.ok(['id', '-g', 'jrapp']));
    for (const f of ['', ...readdirSync(app.dir)]) chownSync(join(app.dir, f), uid, gid);
  },
  { timeout: 290_000 },
);

after(async () => {
  await c?.stop();
  await app?.close();
});

describe('a real systemd runs the generated unit', { timeout: 280_000 }, () => {
  let pid = 0;

  test('install:systemd, then the printed commands: active within seconds (READY), the watchdog set', async () => {
    const out = jobsRuntime('install:systemd', '--name', 'jr-sd', '--procs', '2', '--grace', String(GRACE_S), '--env-file', join(app.dir, 'prod.env'));
    assert.match(out, new RegExp(`^Wrote /etc/systemd/system/${UNIT} \\(runs as jrapp in ${app.dir}\\)$`, 'm'));
    const next = out.match(/^Next, as root:\n {2}(.*)$/m)![1]!;
    assert.equal(next, `systemctl daemon-reload && systemctl enable --now ${UNIT}`);
    const t0 = Date.now();
    c.ok(['sh', '-c', next]); // for Type=notify, start returns once READY=1 arrived
    const startMs = Date.now() - t0;
    pid = await running(UNIT, 5_000);
    const s = c.show(UNIT, 'Type', 'NotifyAccess', 'WatchdogUSec', 'User', 'ExecMainStartTimestampMonotonic', 'ActiveEnterTimestampMonotonic', 'UnitFileState');
    assert.deepEqual([s.Type, s.NotifyAccess, s.WatchdogUSec, s.User, s.UnitFileState], ['notify', 'all', '1min', 'jrapp', 'enabled']);
    const readyMs = (Number(s.ActiveEnterTimestampMonotonic) - Number(s.ExecMainStartTimestampMonotonic)) / 1000;
    assert.ok(startMs < 10_000, `active within seconds (${startMs} ms)`);
    console.log(`  systemd: enable --now returned after ${seconds(startMs)}; READY ${seconds(readyMs)} after the process started`);
    await waitFor('the start banner in worker.log', () => / started: store sqlite:/.test(log()), 10_000, 50);
    assert.match(c.journal(UNIT), /jobs-runtime \S+ started: store sqlite:.* \(JOBS_DATABASE_URL\), queues all, 2 thread\(s\)/);
  });

  test('jobs dispatched from the host are run by the unit', async () => {
    const ids = await app.store.producer.enqueue({ jobs: Array.from({ length: 20 }, (_, n) => jobRow({ handler: 'Records', payload: { file: records, n } })) });
    await waitFor('20 jobs done', async () => (await app.count()) === 0, 20_000, 50);
    assert.deepEqual(
      [...new Set(recordedIds())].sort((a, b) => a - b),
      ids,
    );
  });

  test('kill -9 of the main pid: restarted by systemd, the jobs recovered, nothing lost', async () => {
    const sleeps = await app.store.producer.enqueue({ jobs: Array.from({ length: 4 }, () => jobRow({ handler: 'Sleeps', payload: { ms: 1500 } })) });
    const recs = await app.store.producer.enqueue({
      jobs: Array.from({ length: 100 }, (_, n) => jobRow({ handler: 'Records', payload: { file: records, n } })),
    });
    await waitFor('jobs running', async () => (await app.count(`status = 'processing'`)) > 0, 10_000, 20);
    const t0 = Date.now();
    c.ok(['kill', '-9', String(pid)]);
    const next = await running(UNIT, 20_000, pid);
    const restartMs = Date.now() - t0;
    assert.equal(c.show(UNIT, 'NRestarts').NRestarts, '1');
    console.log(`  systemd: kill -9 → active again (new pid, READY) after ${seconds(restartMs)} (RestartSec=5s)`);
    pid = next;
    await waitFor('every job done', async () => (await app.count()) === 0, 30_000, 100);
    const ran = new Set(recordedIds());
    for (const id of recs) assert.ok(ran.has(id), `job ${id} ran`);
    assert.equal(await app.count(`status = 'failed'`), 0);
    assert.match(log(), /Recovered 1 dead runtime\(s\)/);
    const ok = new Set(parseJobLines(log()).ok);
    for (const id of [...sleeps, ...recs]) assert.ok(ok.has(id), `✔ line for ${id}`);
  });

  test('systemctl reload (SIGHUP) reopens worker.log after logrotate moved it', async () => {
    renameSync(workerLog, `${workerLog}.1`);
    c.ok(['systemctl', 'reload', UNIT]);
    const [id] = await app.store.producer.enqueue({ jobs: [jobRow({ handler: 'Records', payload: { file: records, n: 'after-reload' } })] });
    await waitFor('a new worker.log with the next job', () => log().includes(`✔ Job processed successfully: ${id} `), 10_000, 50);
    assert.equal(Number(c.show(UNIT, 'MainPID').MainPID), pid, 'reloaded, not restarted');
  });

  test('systemctl stop with jobs running: exit 0 within the grace, the unstarted ones given back uncharged', async () => {
    const ids = await app.store.producer.enqueue({ jobs: Array.from({ length: 6 }, () => jobRow({ handler: 'Sleeps', payload: { ms: 2000 } })) });
    await waitFor('two jobs running', async () => (await app.count(`status = 'processing'`)) >= 2, 10_000, 20);
    const t0 = Date.now();
    const stop = c.run(['systemctl', 'stop', UNIT]);
    const stopMs = Date.now() - t0;
    assert.equal(stop.code, 0, stop.stderr);
    const s = c.show(UNIT, 'ActiveState', 'Result', 'ExecMainStatus');
    assert.deepEqual([s.ActiveState, s.Result, s.ExecMainStatus], ['inactive', 'success', '0']);
    assert.ok(stopMs < GRACE_S * 1000, `stopped within the grace (${stopMs} ms)`);
    console.log(`  systemd: systemctl stop with 2 jobs of 2 s running took ${seconds(stopMs)}`);
    assert.equal(await app.count(`status = 'processing'`), 0);
    const left = await app.count();
    assert.ok(left >= 2 && left <= ids.length - 2, `${left} given back`);
    assert.equal(await app.count(`status = 'new' AND attempts = 0`), left, 'given back with no attempt charged');
    assert.match(log(), /SIGTERM received: stopping/);
  });

  test('--heartbeat 90 under WatchdogSec=3s: the pings keep coming every second, never killed', async () => {
    dropIn(UNIT, `${execStartWith(`/etc/systemd/system/${UNIT}`, '--heartbeat', '90', '--dead-after', '200')}WatchdogSec=3s\n`);
    c.ok(['systemctl', 'start', UNIT]);
    pid = await running(UNIT, 10_000);
    const argv = c.ok(['cat', `/proc/${pid}/cmdline`]).split('\0');
    assert.deepEqual(argv.slice(-5, -1), ['--heartbeat', '90', '--dead-after', '200']);
    const restarts = c.show(UNIT, 'NRestarts').NRestarts;
    const start = Number(c.show(UNIT, 'ExecMainStartTimestampMonotonic').ExecMainStartTimestampMonotonic);
    // Each WATCHDOG=1 moves systemd's watchdog timestamp: watched for three watchdog periods.
    const pings = new Set<number>();
    await waitFor(
      'three watchdog periods of pings',
      () => {
        const s = c.show(UNIT, 'WatchdogTimestampMonotonic', 'MainPID');
        assert.equal(Number(s.MainPID), pid, 'never killed');
        pings.add(Number(s.WatchdogTimestampMonotonic));
        return Math.max(...pings) - start >= 9_000_000;
      },
      15_000,
      100,
    );
    const at = [...pings].sort((a, b) => a - b);
    const gaps = at.slice(1).map((t, i) => (t - at[i]!) / 1000);
    assert.ok(Math.max(...gaps) < 2_000, `a ping at least every 2 s: gaps ${gaps.map(Math.round).join(', ')} ms`);
    assert.deepEqual(c.show(UNIT, 'ActiveState', 'NRestarts'), { ActiveState: 'active', NRestarts: restarts });
  });

  test('a stalled master (SIGSTOP): killed by the watchdog and restarted', async () => {
    const t0 = Date.now();
    c.ok(['kill', '-STOP', String(pid)]);
    const next = await running(UNIT, 20_000, pid);
    console.log(`  systemd: SIGSTOP → killed by the 3 s watchdog and active again after ${seconds(Date.now() - t0)}`);
    assert.match(c.journal(UNIT), /Watchdog timeout \(limit 3s\)/);
    pid = next;
  });

  test('--max-jobs: the runtime exits 75 after that many, and the unit restarts it (not a failure)', async () => {
    dropIn(UNIT, execStartWith(`/etc/systemd/system/${UNIT}`, '--max-jobs', '5'));
    c.ok(['systemctl', 'restart', UNIT]);
    pid = await running(UNIT, 10_000);
    const before = Number(c.show(UNIT, 'NRestarts').NRestarts);
    const ids = await app.store.producer.enqueue({
      jobs: Array.from({ length: 12 }, (_, n) => jobRow({ handler: 'Records', payload: { file: records, n: `max-${n}` } })),
    });
    // 5, then 5 after a restart, then 2 after another: RestartSec=5s each time.
    await waitFor('the 12 jobs done over three runs', async () => (await app.count()) === 0, 40_000, 100);
    const ran = new Set(recordedIds());
    for (const id of ids) assert.ok(ran.has(id), `job ${id} ran`);
    pid = await running(UNIT, 10_000);
    const s = c.show(UNIT, 'NRestarts', 'Result');
    assert.ok(Number(s.NRestarts) >= before + 2, `restarted twice (NRestarts ${before} → ${s.NRestarts})`);
    assert.equal(s.Result, 'success');
    assert.ok(lines(log()).filter((l) => l.includes('(exit 75: restart requested)')).length >= 2);
    assert.match(c.journal(UNIT), /Scheduled restart job/);
    dropIn(UNIT, null);
    c.ok(['systemctl', 'stop', UNIT]);
  });

  test('the instance template: two instances side by side, each on its queue, each restarted on its own', async () => {
    const out = jobsRuntime('install:systemd', '--name', 'jr-sdq', '--template', '--queue', 'q1', '--procs', '1', '--env-file', join(app.dir, 'prod.env'));
    c.ok(['sh', '-c', out.match(/^Next, as root:\n {2}(.*)$/m)![1]!]);
    c.ok(['systemctl', 'enable', '--now', 'jr-sdq@q2.service']);
    const p1 = await running('jr-sdq@q1.service', 10_000);
    const p2 = await running('jr-sdq@q2.service', 10_000);
    assert.notEqual(p1, p2);
    const q1 = await app.store.producer.enqueue({
      jobs: Array.from({ length: 5 }, (_, n) => jobRow({ handler: 'Records', payload: { file: records, n: `q1-${n}` }, queue: 'q1' })),
    });
    const q2 = await app.store.producer.enqueue({
      jobs: Array.from({ length: 5 }, (_, n) => jobRow({ handler: 'Records', payload: { file: records, n: `q2-${n}` }, queue: 'q2' })),
    });
    await waitFor('both queues done', async () => (await app.count()) === 0, 20_000, 50);
    // Records writes "<id> <attempt> <runtime id> …"; a runtime id is host:pid:boot.
    const ranBy = new Map(lines(readFileSync(records, 'utf8')).map((l) => [Number(l.split(' ')[0]), Number(l.split(' ')[2]!.split(':')[1])]));
    for (const id of q1) assert.equal(ranBy.get(id), p1, `q1 job ${id} ran in jr-sdq@q1`);
    for (const id of q2) assert.equal(ranBy.get(id), p2, `q2 job ${id} ran in jr-sdq@q2`);

    c.ok(['kill', '-9', String(p1)]);
    const p1again = await running('jr-sdq@q1.service', 20_000, p1);
    assert.notEqual(p1again, p1);
    assert.equal(c.show('jr-sdq@q1.service', 'NRestarts').NRestarts, '1');
    assert.deepEqual(c.show('jr-sdq@q2.service', 'MainPID', 'NRestarts'), { MainPID: String(p2), NRestarts: '0' });
  });
});
