// The cross-host workloads of issue 12, on the multi-host rig of the test suite (network
// namespaces on a bridge, private mariadbd and redis-server; needs root):
// - W2 cross-host: the runtime on host mhA, the dispatcher (bench/w2-dispatcher.ts) on host
//   mhB, so the same-host UDP wake-up cannot reach it; MySQL and Redis, then BullMQ's own W2
//   run on mhB against the rig's Redis (its script talks to 127.0.0.1:6379, so a zero-delay
//   forwarder on mhB's loopback carries it over the bridge).
// - W1 at +50 ms RTT: a backlog of no-op jobs on mhA, direct and through the delay proxy.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readFileSync } from 'node:fs';
import { createRig, requireRig, withPort, type Rig } from '../../test/helpers/multihost.ts';
import { backlogThroughput } from '../../test/helpers/multihost-throughput.ts';
import { pct, result, ROOT, sleep } from '../lib.ts';

const PEERS = join(ROOT, 'bench/.peers');
const PROXY = fileURLToPath(new URL('../../test/helpers/delay-proxy.ts', import.meta.url));

/** Why the cross-host workloads cannot run here, or null when they can. */
export function crossHostUnavailable(): string | null {
  try {
    requireRig({ mysql: true, redis: true });
    return null;
  } catch (e) {
    return (e as Error).message;
  }
}

export interface CrossHostFigures {
  [name: string]: number;
}

export async function crossHost(o: { w2Count: number; w1Jobs: number; bullmq: boolean }): Promise<CrossHostFigures> {
  const rig = await createRig({ hosts: ['mhA', 'mhB'], mysql: true, redis: 'none' });
  const figures: CrossHostFigures = {};
  try {
    for (const kind of ['mysql', 'redis'] as const) {
      const l = await w2CrossHost(rig, kind, o.w2Count);
      for (const [p, v] of Object.entries(l)) {
        result(kind, `w2-xhost-${p}`, v, 'ms');
        figures[`w2-xhost-${kind}-${p} ms`] = v;
      }
    }
    if (o.bullmq) Object.assign(figures, await bullmqW2OnHost(rig, o.w2Count));
    for (const kind of ['mysql', 'redis'] as const) {
      const direct = await rig.openStore(kind, `w1_direct_${kind}`);
      const d = await backlogThroughput(rig, direct, direct.url, o.w1Jobs, 120_000);
      const slowStore = await rig.openStore(kind, `w1_rtt_${kind}`);
      const proxyPort = await rig.delayProxy(Number(new URL(slowStore.url).port), 25);
      const s = await backlogThroughput(rig, slowStore, withPort(slowStore.url, proxyPort), o.w1Jobs, Math.max(3 * d.ms + 5_000, 20_000));
      result(kind, 'w1-xhost-direct', d.jobsPerSecond, 'jobs/s');
      result(kind, 'w1-rtt50', s.jobsPerSecond, 'jobs/s');
      figures[`w1-xhost-direct-${kind} jobs/s`] = d.jobsPerSecond;
      figures[`w1-rtt50-${kind} jobs/s`] = s.jobsPerSecond;
      if (s.done < o.w1Jobs) console.log(`# w1-rtt50 ${kind}: stopped after ${s.done} of ${o.w1Jobs} jobs (3× the direct time)`);
    }
  } finally {
    await rig.close();
  }
  return figures;
}

async function w2CrossHost(rig: Rig, kind: 'mysql' | 'redis', count: number): Promise<{ p50: number; p95: number; p99: number }> {
  const s = await rig.openStore(kind, `w2_xhost_${kind}`);
  const runtime = rig.spawnOn('mhA', [
    process.execPath,
    join(ROOT, 'bin/jobs-runtime'),
    'start',
    '--database-url',
    s.url,
    '--jobs-dir',
    join(ROOT, 'bench/jobs'),
    '--procs',
    '4',
  ]);
  for (let i = 0; i < 400 && !runtime.output().includes(' started: '); i++) await sleep(25);
  if (!runtime.output().includes(' started: ')) throw new Error(`the runtime on mhA did not start:\n${runtime.output()}`);
  await sleep(1500); // threads start, as bench/lib.ts waits
  const file = join(rig.dir, `w2-${kind}.txt`);
  const dispatcher = rig.spawnOn('mhB', [process.execPath, '--import', 'tsx', join(ROOT, 'bench/w2-dispatcher.ts'), s.url, String(count), file]);
  const d = await dispatcher.done;
  if (d.code !== 0) throw new Error(`the W2 dispatcher on mhB failed:\n${d.stderr}`);
  for (let i = 0; i < 200 && lines(file).length < count; i++) await sleep(25);
  runtime.child.kill('SIGTERM');
  await runtime.done;
  const lat = lines(file)
    .map(Number)
    .sort((a, b) => a - b);
  if (lat.length < count) throw new Error(`only ${lat.length} of ${count} cross-host W2 jobs ran`);
  return { p50: pct(lat, 50), p95: pct(lat, 95), p99: pct(lat, 99) };
}

/** BullMQ's W2 script on mhB, its 127.0.0.1:6379 forwarded to the rig's Redis. */
async function bullmqW2OnHost(rig: Rig, count: number): Promise<CrossHostFigures> {
  const forwarder = rig.spawnOn('mhB', [process.execPath, '--import', 'tsx', PROXY, '127.0.0.1', rig.net.gateway, String(rig.redis!.port), '0', '6379']);
  for (let i = 0; i < 400 && !forwarder.output().includes('listening'); i++) await sleep(25);
  if (!forwarder.output().includes('listening')) throw new Error(`the forwarder on mhB did not start:\n${forwarder.output()}`);
  const peer = rig.spawnOn('mhB', ['sh', '-c', `cd "$0" && exec "${process.execPath}" bullmq-bench.mjs w2`, PEERS], {
    timeoutMs: 300_000,
    env: { N_W2: String(count) },
  });
  const r = await peer.done;
  forwarder.child.kill('SIGTERM');
  if (r.code !== 0) throw new Error(`BullMQ's W2 on mhB failed:\n${r.stdout}${r.stderr}`);
  const figures: CrossHostFigures = {};
  for (const m of r.stdout.matchAll(/^RESULT (\S+) (w2-p\d+) (\S+) ms$/gm)) figures[`${m[1]} xhost-${m[2]} ms`] = Number(m[3]);
  return figures;
}

function lines(file: string): string[] {
  try {
    return readFileSync(file, 'utf8').split('\n').filter(Boolean);
  } catch {
    return [];
  }
}
