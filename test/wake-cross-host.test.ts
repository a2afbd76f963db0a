// Wake-ups that reach runtimes on other hosts. The dispatching side here has no view of the
// runtime's same-host wake directory (JOBS_WAKE_DIR points it at an empty one), exactly as a
// web server on another machine: only the cross-host path can end the runtime's 60 s poll
// sleep. MySQL: a datagram to the address the runtime registered, here 127.0.0.2 (not the
// 127.0.0.1 the same-host path uses); Redis: the enqueue script's PUBLISH, received on the
// runtime's own subscriber connection. A wake-up is measured from just before the dispatch to
// the job's start (Traced writes its start time): a poll would take up to 60 s, and after a job
// was found the next poll comes 6 s later, so every pickup under 2 s is a wake-up's.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, existsSync, rmSync } from 'node:fs';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { killAll, runCli, startCli, type RunningCli } from './helpers/cli.ts';
import { createApp, type E2eApp } from './helpers/e2e.ts';
import { waitFor } from './helpers/wait.ts';

// The test process dispatches as the other host: no same-host port files to find. Set before
// the dispatcher is imported (it reads JOBS_WAKE_DIR once).
const dispatcherWakeDir = mkdtempSync(join(tmpdir(), 'jr-wake-elsewhere-'));
process.env.JOBS_WAKE_DIR = dispatcherWakeDir;
const { dispatchJobs, openProducer } = await import('../src/dispatcher.ts');

after(() => {
  killAll();
  rmSync(dispatcherWakeDir, { recursive: true, force: true });
});

class Traced {}
/** A Traced job that writes its start time to `file`. */
const tracedJob = (file: string, delayMs: number) => ({
  handler: 'Traced',
  queue: 'default',
  payload: JSON.stringify({ file, traceStart: true }),
  delayMs,
  maxAttempts: 1,
  retryAfterMs: 0,
  timeoutMs: null,
});
const POLL = ['--sleep', '60'];
const PICKUP_LIMIT_MS = 2_000;

function starts(file: string): Map<number, number> {
  const out = new Map<number, number>();
  if (!existsSync(file)) return out;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const [kind, id, , , at] = line.split(' ');
    if (kind === 'start') out.set(Number(id), Number(at));
  }
  return out;
}

for (const kind of ['mysql', 'redis'] as const) {
  describe(`cross-host wake-up: ${kind}`, () => {
    let app: E2eApp;
    let runtimeWakeDir: string;
    let rt: RunningCli;
    let trace: string;
    const extra = kind === 'mysql' ? ['--wake-address', '127.0.0.2'] : [];
    before(async () => {
      app = await createApp(kind, 'wake_xhost');
      runtimeWakeDir = mkdtempSync(join(tmpdir(), 'jr-wake-runtime-'));
      trace = join(app.dir, 'trace.txt');
      rt = startCli(['start', '--procs', '1', ...POLL, ...extra, ...app.storeArgs], {
        cwd: app.dir,
        env: { JOBS_WAKE_DIR: runtimeWakeDir },
        timeoutMs: 120_000,
      });
      await waitFor('the runtime to start', () => rt.stdout().includes(' started: '), 20_000);
    });
    after(async () => {
      rt?.child.kill('SIGTERM');
      await rt?.done;
      await app?.close();
      rmSync(runtimeWakeDir, { recursive: true, force: true });
    });

    test('the banner names the path, and the registry holds the address dispatchers read', async () => {
      if (kind === 'mysql') {
        const m = /poll 60 s \+ wake-up \(udp (127\.0\.0\.2:\d+)\)/.exec(rt.stdout());
        assert.ok(m, rt.stdout());
        const mine = (await app.store.registry.listRuntimes({})).find((r) => r.pid === rt.pid);
        assert.equal(mine?.wakeAddress, m[1]);
        assert.deepEqual(await app.store.producer.wakeAddresses!({}), [m[1]]);
      } else {
        assert.match(rt.stdout(), /poll 60 s \+ wake-up \(pub\/sub\)/);
      }
    });

    test('dispatches from a process that cannot see this host’s wake directory are picked up at once', async () => {
      const producer = await openProducer(app.url);
      try {
        // The first run of a thread pays for loading its job files (~0.4 s here): it is shown
        // apart, and the wake-up is judged on the runs after it.
        const pickups: number[] = [];
        for (let n = 0; n < 6; n++) {
          const t0 = Date.now();
          const id = (await dispatchJobs(Traced, [tracedJob(trace, 0)], producer))[0]!.id;
          const startedAt = await waitFor(`job ${id} to start`, () => starts(trace).get(id!), 10_000);
          pickups.push(startedAt - t0);
        }
        console.log(`WAKE ${kind}: pickup from another dispatcher (ms): first run ${pickups[0]}, then ${pickups.slice(1).join(', ')}`);
        // The first run: well under the 60 s poll, with room for a loaded machine's thread start.
        assert.ok(pickups[0]! < 10_000, `first run picked up after ${pickups[0]} ms`);
        for (const ms of pickups.slice(1)) assert.ok(ms < PICKUP_LIMIT_MS, `picked up after ${ms} ms: woken, not polled (--sleep 60)`);
      } finally {
        await producer.close();
      }
    });

    test('a dispatch command that exits at once still wakes the runtime', async () => {
      const r = await runCli(['dispatch', 'Traced', '--payload', JSON.stringify({ file: trace, traceStart: true }), ...app.storeArgs], {
        cwd: app.dir,
        env: { JOBS_WAKE_DIR: dispatcherWakeDir },
        timeoutMs: 20_000,
      });
      const exitedAt = Date.now();
      assert.equal(r.code, 0, r.stderr);
      const id = Number(r.stdout.trim());
      const startedAt = await waitFor(`job ${id} to start`, () => starts(trace).get(id), 10_000);
      console.log(`WAKE ${kind}: started ${startedAt - exitedAt} ms after the dispatch command exited`);
      assert.ok(startedAt - exitedAt < PICKUP_LIMIT_MS, `started ${startedAt - exitedAt} ms after the dispatch exited`);
    });

    test('delayed dispatches wake nobody: the job waits for its time and the poll', async () => {
      // 300 ms delay: due long before the next poll (60 s), so if it ran within 2 s something woke the runtime.
      const producer = await openProducer(app.url);
      try {
        const id = (await dispatchJobs(Traced, [tracedJob(trace, 300)], producer))[0]!.id;
        await new Promise((r) => setTimeout(r, PICKUP_LIMIT_MS));
        assert.equal(starts(trace).has(id!), false, 'a job not yet due at dispatch sent no wake-up');
      } finally {
        await producer.close();
      }
    });

    test('JOBS_WAKE=0 in the dispatching process announces nothing', async () => {
      const producer = await openProducer(app.url);
      process.env.JOBS_WAKE = '0';
      try {
        const id = (await dispatchJobs(Traced, [tracedJob(trace, 0)], producer))[0]!.id;
        await new Promise((r) => setTimeout(r, PICKUP_LIMIT_MS));
        assert.equal(starts(trace).has(id!), false, 'no wake-up was sent (the job waits for the 60 s poll)');
      } finally {
        delete process.env.JOBS_WAKE;
        await producer.close();
      }
    });
  });
}

const hostAddresses = Object.values(networkInterfaces())
  .flat()
  .filter((a) => a && a.family === 'IPv4' && !a.internal)
  .map((a) => a!.address);

describe('cross-host wake-up: the default address', { skip: hostAddresses.length === 0 && 'this host has no address but loopback' }, () => {
  test("with the store on this host, a runtime registers the host's own address, and a dispatch reaches it", async () => {
    const app = await createApp('mysql', 'wake_xhost_default');
    const runtimeWakeDir = mkdtempSync(join(tmpdir(), 'jr-wake-runtime-'));
    const trace = join(app.dir, 'trace.txt');
    try {
      const rt = startCli(['start', '--procs', '1', ...POLL, ...app.storeArgs], { cwd: app.dir, env: { JOBS_WAKE_DIR: runtimeWakeDir }, timeoutMs: 60_000 });
      await waitFor('the runtime to start', () => rt.stdout().includes(' started: '), 20_000);
      const mine = (await app.store.registry.listRuntimes({})).find((r) => r.pid === rt.pid);
      const host = mine?.wakeAddress?.split(':')[0];
      assert.ok(host && hostAddresses.includes(host), `registered ${mine?.wakeAddress}, this host has ${hostAddresses.join(', ')}`);
      assert.match(rt.stdout(), new RegExp(`\\+ wake-up \\(udp ${mine!.wakeAddress!.replace(/\./g, '\\.')}\\)`));
      const producer = await openProducer(app.url);
      try {
        const t0 = Date.now();
        const id = (await dispatchJobs(Traced, [tracedJob(trace, 0)], producer))[0]!.id;
        const startedAt = await waitFor(`job ${id} to start`, () => starts(trace).get(id!), 15_000);
        assert.ok(startedAt - t0 < 10_000, `picked up after ${startedAt - t0} ms (a poll: 60 s)`);
      } finally {
        await producer.close();
      }
      rt.child.kill('SIGTERM');
      assert.equal((await rt.done).code, 0);
    } finally {
      await app.close();
      rmSync(runtimeWakeDir, { recursive: true, force: true });
    }
  });
});

describe('cross-host wake-up: switched off', () => {
  test('JOBS_WAKE=0 registers no address and opens no path', async () => {
    const app = await createApp('mysql', 'wake_xhost_off');
    try {
      const rt = startCli(['start', '--procs', '1', ...POLL, '--wake-address', '127.0.0.2', ...app.storeArgs], {
        cwd: app.dir,
        env: { JOBS_WAKE: '0' },
        timeoutMs: 60_000,
      });
      await waitFor('the runtime to start', () => rt.stdout().includes(' started: '), 20_000);
      assert.doesNotMatch(rt.stdout(), /wake-up/);
      const mine = (await app.store.registry.listRuntimes({})).find((r) => r.pid === rt.pid);
      assert.equal(mine?.wakeAddress, null);
      rt.child.kill('SIGTERM');
      assert.equal((await rt.done).code, 0);
    } finally {
      await app.close();
    }
  });

  test('an address it cannot listen on is a start error naming it', async () => {
    const app = await createApp('mysql', 'wake_xhost_bad');
    try {
      // 198.51.100.77 (TEST-NET-2) is on no interface of this host.
      const r = await runCli(['start', '--procs', '1', '--wake-address', '198.51.100.77:7', ...app.storeArgs], { cwd: app.dir, timeoutMs: 30_000 });
      assert.equal(r.code, 1);
      assert.match(r.stderr, /--wake-address: cannot listen on 198\.51\.100\.77:7 \(.*EADDRNOTAVAIL/);
      const bad = await runCli(['start', '--wake-address', '0.0.0.0', ...app.storeArgs], { cwd: app.dir, timeoutMs: 30_000 });
      assert.equal(bad.code, 1);
      assert.match(bad.stderr, /--wake-address 0\.0\.0\.0 names no address other hosts could send to/);
    } finally {
      await app.close();
    }
  });
});
