// The multi-host rig itself (test/helpers/multihost.ts): hosts with their own names and
// addresses, the private servers reachable from every host, partitions that drop packets
// silently, stalls, the delay proxy's added round trip, a clear error when the machine cannot
// run it, and nothing left behind once it is closed.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { jobRow } from './helpers/job-rows.ts';
import { createRig, okIds, requireRig, withPort, type Rig } from './helpers/multihost.ts';
import { Network } from './helpers/multihost-net.ts';
import { waitFor } from './helpers/wait.ts';

const HELPER = fileURLToPath(new URL('./helpers/multihost.ts', import.meta.url));
let rig: Rig;

// A TCP probe run inside a host: connects, sends `send` (if any), prints how it ended and how long it took.
const PROBE = `
const net = require('node:net');
const [host, port, send, waitMs] = process.argv.slice(1);
const t0 = performance.now();
const s = net.connect({ host, port: Number(port) });
const done = (what) => { console.log(what + ' ' + (performance.now() - t0).toFixed(1)); process.exit(0); };
setTimeout(() => done('timeout'), Number(waitMs));
s.on('error', (e) => done('error:' + e.code));
s.on('connect', () => { if (!send) done('connected'); else { s.write(send); } });
s.on('data', () => done('reply'));
`;

function probe(host: string, port: number, send = '', waitMs = 2_000): { what: string; ms: number } {
  const r = spawnSync(
    rig.net.execPrefix(host)[0]!,
    [...rig.net.execPrefix(host).slice(1), process.execPath, '-e', PROBE, rig.net.gateway, String(port), send, String(waitMs)],
    {
      encoding: 'utf8',
      timeout: waitMs + 5_000,
    },
  );
  const [what, ms] = r.stdout.trim().split(' ');
  return { what: what ?? `no output (${r.stderr})`, ms: Number(ms) };
}

before(async () => {
  rig = await createRig({ hosts: ['mhA', 'mhB'], mysql: true, redis: 'aof' });
});
after(async () => {
  await rig?.close();
});

describe('multi-host rig', () => {
  test('each host has its own name and address, and reaches the private servers on the bridge', async () => {
    for (const name of ['mhA', 'mhB']) {
      const p = rig.spawnOn(name, ['sh', '-c', 'hostname; ip -4 -o addr show']);
      const out = (await p.done).stdout;
      assert.equal(out.split('\n')[0], name);
      assert.match(out, new RegExp(`inet ${rig.net.host(name).address.replace(/\./g, '\\.')}/24`));
      assert.equal(probe(name, rig.mariadb!.port).what, 'connected');
      assert.equal(probe(name, rig.redis!.port, 'PING\r\n').what, 'reply');
    }
    assert.notEqual(rig.net.host('mhA').address, rig.net.host('mhB').address);
  });

  test('a runtime on a host runs jobs of the private MySQL and Redis under its own host name', async () => {
    for (const kind of ['mysql', 'redis'] as const) {
      const s = await rig.openStore(kind, `rig_${kind}`);
      const ids = await s.store.producer.enqueue({ jobs: [jobRow({ handler: 'Ok' }), jobRow({ handler: 'Ok' })] });
      const r = rig.startRuntime('mhA', s.url, ['--procs', '1', '--stop-when-empty']);
      const res = await r.done;
      assert.equal(res.code, 0, r.output());
      assert.match(res.stdout, /started: .*, id mhA:\d+:/);
      assert.deepEqual(okIds(res.stdout).sort(), ids.map(Number).sort());
    }
  });

  test('a partition drops packets silently (no error, no refusal) until healed', () => {
    rig.partition('mhA');
    try {
      const cut = probe('mhA', rig.redis!.port, '', 1_500);
      assert.equal(cut.what, 'timeout', 'a connect across the cut neither succeeds nor fails fast');
      assert.equal(probe('mhB', rig.redis!.port, 'PING\r\n').what, 'reply', 'the other host is not cut');
    } finally {
      rig.heal('mhA');
    }
    assert.equal(probe('mhA', rig.redis!.port, 'PING\r\n').what, 'reply');
  });

  test('the delay proxy adds its delay in each direction', async () => {
    const port = await rig.delayProxy(rig.redis!.port, 25);
    const direct = probe('mhA', rig.redis!.port, 'PING\r\n');
    const slow = probe('mhA', port, 'PING\r\n');
    assert.equal(slow.what, 'reply');
    // connect (to the proxy, not delayed) + PING → PONG through the proxy: 25 ms each way.
    assert.ok(slow.ms - direct.ms >= 50, `round trip through the proxy ${slow.ms} ms, direct ${direct.ms} ms`);
    assert.ok(slow.ms < 400, `round trip through the proxy ${slow.ms} ms`);
    assert.equal(new URL(withPort(rig.redis!.url('x:'), port)).port, String(port));
  });

  test('a stall stops every process of the host, resume continues them', async () => {
    const p = rig.spawnOn('mhB', [process.execPath, '-e', 'setInterval(() => console.log(Date.now()), 50)']);
    await waitFor('ticks', () => p.output().split('\n').length > 3, 10_000);
    assert.equal(rig.stall('mhB'), 1);
    await new Promise((r) => setTimeout(r, 300)); // let the last write before the stop arrive
    const frozen = p.output().length;
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(p.output().length, frozen, 'no output while stopped');
    rig.resume('mhB');
    await waitFor('ticks after resume', () => p.output().length > frozen, 10_000);
    assert.equal(rig.killHost('mhB'), 1);
    assert.equal((await p.done).signal, 'SIGKILL');
  });
});

describe('multi-host rig, refusals and cleanup', () => {
  const tsx = ['--import', 'tsx', '-e', `import(${JSON.stringify(HELPER)}).then((m) => m.requireRig({ mysql: true, redis: true }))`];

  test('not root: a clear error, not a skip', () => {
    const r = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, ...tsx], { encoding: 'utf8', timeout: 30_000 });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /the multi-host rig needs root/);
  });

  test('tools missing: the error names each one and its package', () => {
    const empty = mkdtempSync(join(tmpdir(), 'jr-mh-path-'));
    after(() => rmSync(empty, { recursive: true, force: true }));
    assert.throws(
      () => requireRig({ mysql: true, redis: true, path: empty }),
      /needs ip, unshare, setpriv, mariadb-install-db, redis-server: apt-get install iproute2 util-linux mariadb-server redis-server \(\.ci\/run does\)/,
    );
  });

  test('close removes every namespace and link it made', async () => {
    const other = await createRig({ hosts: ['mhX', 'mhY', 'mhZ'] });
    const prefix = other.net.prefix;
    assert.ok(Network.leftoversOf(prefix).length >= 3 + 3 + 1, 'made 3 namespaces, 3 veth pairs, a bridge');
    const p = other.spawnOn('mhX', ['sleep', '60']);
    await other.close();
    assert.equal(p.exited(), true);
    assert.deepEqual(Network.leftoversOf(prefix), []);
    assert.ok(Network.leftoversOf(rig.net.prefix).length > 0, 'the other rig of this process is left alone');
  });
});
