// npm run bench -- [--store mysql|sqlite|redis] [--runs 3] [--compare] [--quick] [--only w1,w1outcomes,w3,w7,xhost,tx]
// Runs W1–W7 (see the README's Performance section) against the real runtime and prints one
// `RESULT jobs-runtime <store> <workload> <number> <unit>` line per figure, then a summary of
// medians (min–max). --compare also runs the peers' benchmarks and prints the target ratios.
// W6 (mixed job lengths, about a minute at --concurrency 1) runs once per invocation, at
// --concurrency 1 and 4, whatever --runs says.
// `xhost` (once per invocation, MySQL and Redis whatever --store says): W2 with the dispatcher
// on another host and W1 at +50 ms RTT, on the multi-host rig; it needs root and is skipped,
// saying why, without it. BullMQ's W2 runs on the rig too (its packages from ../shared/peers).
import { median, type StoreKind } from './lib.ts';
import { w1 } from './workloads/w1-throughput.ts';
import { idleCpu, w2, type Latency } from './workloads/w2-latency.ts';
import { w3 } from './workloads/w3-cpu.ts';
import { w4 } from './workloads/w4-dispatch.ts';
import { w5, w5TypeScriptIdle } from './workloads/w5-memory.ts';
import { w6 } from './workloads/w6-mixed.ts';
import { preparePeers, runPeer } from './peers.ts';
import { crossHost, crossHostUnavailable } from './workloads/cross-host.ts';
import { w7, w7BullMQ, type WebFigures } from './workloads/w7-web.ts';
import { txDispatch } from './workloads/tx-dispatch.ts';

const args = process.argv.slice(2);
const flag = (name: string) => args.includes(name);
const value = (name: string, fallback: string) => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] ? args[i + 1]! : fallback;
};
const store = value('--store', 'mysql') as StoreKind;
if (!['mysql', 'sqlite', 'redis'].includes(store)) throw new Error(`--store must be mysql, sqlite or redis, got '${store}'`);
const quick = flag('--quick');
// xhost is left out of --quick (the test suite's smoke run) unless asked for by --only.
const only = new Set(value('--only', quick ? 'w1,w1flow,w1outcomes,w2,w3,w4,w5,w6,w7,tx' : 'w1,w1flow,w1outcomes,w2,w3,w4,w5,w6,w7,xhost,tx').split(','));
const runs = Number(value('--runs', quick ? '1' : '3'));
const sizes = quick
  ? {
      tx: { calls: 50, latency: 20 },
      w1: 500,
      w2: 20,
      w3: 20,
      w4: 100,
      w5: [2_000],
      w6: { jobs: 200, longMs: 200 },
      w7: { seconds: 3, connections: 50, backlog: 2_000 },
      idleSeconds: 2,
    }
  : {
      tx: { calls: 1_000, latency: 200 },
      w1: 20_000,
      w2: 200,
      w3: 400,
      w4: 1_000,
      w5: [100_000, 1_000_000],
      w6: { jobs: 5_000, longMs: 2_000 },
      w7: { seconds: 20, connections: 50, backlog: 20_000 },
      idleSeconds: 30,
    };

const watchdog = setTimeout(() => {
  console.error('bench: exceeded 20 minutes, aborting');
  process.exit(124);
}, 20 * 60_000);
watchdog.unref();

const figures = new Map<string, number[]>();
const add = (name: string, v: number) => figures.set(name, [...(figures.get(name) ?? []), v]);
const addWeb = (name: string, f: WebFigures) => {
  add(`${name} req/s`, f.reqPerS);
  add(`${name}-p50 ms`, f.p50);
  add(`${name}-p99 ms`, f.p99);
  add(`${name}-cpu-per-1k ms`, f.cpuPer1k * 1000);
  if (f.backlogCpuPer1k !== undefined) add(`${name}-backlog-cpu-per-1k ms`, f.backlogCpuPer1k * 1000);
  add(`${name}-server-cpu-per-1k ms`, f.serverCpuPer1k * 1000);
  if (f.storeCpuPer1k !== undefined) add(`${name}-store-cpu-per-1k ms`, f.storeCpuPer1k * 1000);
  add(`${name}-client-cpu-per-1k ms`, f.clientCpuPer1k * 1000);
  add(`${name}-drain ms`, f.drainMs);
};
const started = Date.now();

for (let run = 1; run <= runs; run++) {
  console.log(`# run ${run}/${runs} on ${store}`);
  if (only.has('w1')) {
    const t = await w1(store, sizes.w1);
    add('w1-enqueue jobs/s', t.enqueue);
    add('w1 jobs/s', t.process);
  }
  if (only.has('w1flow')) {
    for (const flavour of ['priorities', 'unique', 'concurrency'] as const) add(`w1-${flavour} jobs/s`, (await w1(store, sizes.w1, flavour)).process);
  }
  const addLatency = (name: string, l: Latency) => {
    add(`${name}-p50 ms`, l.p50);
    add(`${name}-p95 ms`, l.p95);
    add(`${name}-p99 ms`, l.p99);
  };
  if (only.has('w1outcomes')) {
    // Outcomes kept (the default) against --keep-outcomes 0, alternating so that load drifts hit both.
    add('w1-outcomes-off jobs/s', (await w1(store, sizes.w1, 'plain', { name: 'w1-outcomes-off', args: ['--keep-outcomes', '0'] })).process);
    add('w1-outcomes-kept jobs/s', (await w1(store, sizes.w1, 'plain', { name: 'w1-outcomes-kept', args: ['--keep-outcomes', '1h'] })).process);
  }
  if (only.has('w2')) {
    addLatency('w2', await w2(store, sizes.w2, true));
    addLatency('w2-nowake', await w2(store, sizes.w2, false));
  }
  if (only.has('w3')) add('w3 s', await w3(store, sizes.w3));
  if (only.has('w4')) {
    const d = await w4(store, sizes.w4);
    add('w4-dispatch-p50 ms', d.p50);
    add('w4-dispatch-p99 ms', d.p99);
  }
  if (only.has('w7')) addWeb('w7', await w7(store, sizes.w7));
  if (only.has('tx') && store !== 'redis') for (const [k, v] of Object.entries(await txDispatch(store, sizes.tx))) add(`${k} ms`, v);
}
if (only.has('w2')) {
  const idle = await idleCpu(store, sizes.idleSeconds);
  add('idle-cpu-first-window %', idle.firstWindow);
  add('idle-cpu %-of-one-core', idle.steady);
}
if (only.has('w5')) {
  const rss = await w5(store, sizes.w5);
  rss.forEach((r, i) => void add(`w5-rss-${i === 0 ? 'idle' : `after-${sizes.w5[i - 1]}`} MB`, r / 1048576));
  add('w5-rss-idle-ts MB', (await w5TypeScriptIdle(store)) / 1048576);
}
if (only.has('w6')) {
  for (const concurrency of [1, 4]) {
    const name = concurrency === 1 ? 'w6' : `w6-c${concurrency}`;
    const f = await w6(store, sizes.w6, concurrency);
    add(`${name}-wall s`, f.wallS);
    add(`${name}-ideal s`, f.idealS);
    add(`${name}-wall/ideal x`, f.ratio);
    add(`${name}-overtaken jobs`, f.overtaken);
    add(`${name}-worst-overtake ms`, f.worstOvertakeMs);
  }
}

if (only.has('xhost')) {
  const why = crossHostUnavailable();
  if (why) console.log(`# skipped W2 cross-host and W1 at +50 ms RTT: ${why}`);
  else {
    console.log('# cross-host (multi-host rig): W2 dispatcher on another host, W1 at +50 ms RTT');
    let bullmq = true;
    try {
      preparePeers();
    } catch (e) {
      bullmq = false;
      console.log(`# BullMQ's cross-host W2 left out: ${(e as Error).message}`);
    }
    const x = await crossHost({ w2Count: sizes.w2, w1Jobs: 2_000, bullmq });
    for (const [k, v] of Object.entries(x)) add(k, v);
    const ratio = (a: string, b: string) => (x[a] ?? Number.NaN) / (x[b] ?? Number.NaN);
    for (const kind of ['mysql', 'redis']) {
      console.log(
        `# W2 cross-host ${kind} p50 / BullMQ's: ${ratio(`w2-xhost-${kind}-p50 ms`, 'bullmq xhost-w2-p50 ms').toFixed(2)} (target ≤ 2), p99 / BullMQ's: ${ratio(`w2-xhost-${kind}-p99 ms`, 'bullmq xhost-w2-p99 ms').toFixed(2)} (target ≤ 3)`,
      );
      console.log(`# W1 ${kind} direct / at +50 ms RTT: ${ratio(`w1-xhost-direct-${kind} jobs/s`, `w1-rtt50-${kind} jobs/s`).toFixed(2)}× (target ≤ 3)`);
    }
  }
}

console.log(`\n## jobs-runtime on ${store}: median (min – max) of ${runs} run(s), ${Math.round((Date.now() - started) / 1000)} s`);
for (const [name, vs] of figures) {
  console.log(`${name.padEnd(30)} ${fmt(median(vs)).padStart(10)}   (${fmt(Math.min(...vs))} – ${fmt(Math.max(...vs))})`);
}

// What each flow-control feature costs on the claim/run/record path, against plain W1 of the same runs.
if (figures.has('w1 jobs/s')) {
  for (const [flavour, target] of [
    ['priorities', '≥ 0.85'],
    ['unique', '≥ 0.85'],
    ['concurrency', '≥ 0.75'],
  ] as const) {
    const vs = figures.get(`w1-${flavour} jobs/s`);
    if (vs)
      console.log(`${`W1 ${flavour} / plain W1`.padEnd(58)} ${(median(vs) / median(figures.get('w1 jobs/s')!)).toFixed(2).padStart(6)}   target ${target}`);
  }
}

// Keeping job outcomes (issue 17): W1 with them against W1 without, same runs.
if (figures.has('w1-outcomes-kept jobs/s') && figures.has('w1-outcomes-off jobs/s')) {
  const r = median(figures.get('w1-outcomes-kept jobs/s')!) / median(figures.get('w1-outcomes-off jobs/s')!);
  console.log(`${'W1 outcomes kept / W1 outcomes off'.padEnd(58)} ${r.toFixed(2).padStart(6)}   target ≥ 0.85`);
}

if (flag('--compare')) {
  preparePeers();
  const peer = new Map<string, number[]>();
  const peerRun = (script: string, mode: string, env: NodeJS.ProcessEnv = {}) => {
    for (let i = 0; i < runs; i++) for (const [k, v] of Object.entries(runPeer(script, mode, env))) peer.set(k, [...(peer.get(k) ?? []), v]);
  };
  console.log('\n# peers (same machine, same invocation)');
  // Only the peers of the workloads run here (--only): `--only w2 --compare` is W2 against BullMQ's W2.
  if (only.has('w1')) peerRun('bullmq-bench.mjs', 'w1');
  if (only.has('w2')) peerRun('bullmq-bench.mjs', 'w2');
  if (only.has('w3')) {
    peerRun('bullmq-bench.mjs', 'w3-threads');
    peerRun('piscina-bench.mjs', 'w3'); // the same CPU work on a bare pool: what this machine allows today
  }
  if (only.has('w1')) {
    peerRun('graphile-bench.mjs', 'w1');
    peerRun('mariadb-bench.mjs', 'claim-batch', { CLAIM_BATCH: '1000' });
  }
  if (only.has('w7')) {
    // In this process (autocannon is the client), on its own key prefix: Redis is not flushed.
    for (let i = 0; i < runs; i++) {
      const f = await w7BullMQ(sizes.w7);
      for (const [k, v] of Object.entries({
        'w7 req/s': f.reqPerS,
        'w7-p50': f.p50,
        'w7-p99': f.p99,
        'w7-drain': f.drainMs,
        'w7-cpu-per-1k': f.cpuPer1k * 1000,
        'w7-server-cpu-per-1k': f.serverCpuPer1k * 1000,
        ...(f.storeCpuPer1k === undefined ? {} : { 'w7-store-cpu-per-1k': f.storeCpuPer1k * 1000 }),
        'w7-client-cpu-per-1k': f.clientCpuPer1k * 1000,
      }))
        peer.set(`bullmq ${k}`, [...(peer.get(`bullmq ${k}`) ?? []), v]);
    }
  }
  const p = (k: string) => median(peer.get(k) ?? [Number.NaN]);
  const m = (k: string) => median(figures.get(k) ?? [Number.NaN]);
  for (const [k, vs] of peer) console.log(`${k.padEnd(30)} ${fmt(median(vs)).padStart(10)}   (${fmt(Math.min(...vs))} – ${fmt(Math.max(...vs))})`);
  const bullW3 = Object.keys(Object.fromEntries(peer)).find((k) => k.startsWith('bullmq') && k.includes('w3')) ?? '';
  console.log(`\n## targets (${store})`);
  const line = (what: string, ratio: number, target: string) => console.log(`${what.padEnd(58)} ${ratio.toFixed(2).padStart(6)}   target ${target}`);
  if (figures.has('w1 jobs/s')) {
    line('W1 processing / BullMQ W1', m('w1 jobs/s') / p('bullmq w1'), store === 'redis' ? '≥ 1.2' : '≥ 2.0');
    if (store === 'mysql') line('W1 processing / raw MariaDB claim-batch (batch 1000)', m('w1 jobs/s') / p('mariadb claim-batch'), '≥ 0.8');
    line('W1 enqueue / graphile-worker addJobs', m('w1-enqueue jobs/s') / p('graphile-worker w1-enqueue'), '≥ 1.0');
  }
  if (figures.has('w2-p50 ms')) {
    line('W2 p50 / BullMQ W2 p50 (lower is better)', m('w2-p50 ms') / p('bullmq w2-p50'), '≤ 1.5');
    line('W2 p99 / BullMQ W2 p99 (lower is better)', m('w2-p99 ms') / p('bullmq w2-p99'), '≤ 2.0');
  }
  if (figures.has('w3 s')) {
    line('W3 / ideal 4.0 s (lower is better)', m('w3 s') / 4.0, '≤ 1.05');
    line('W3 / BullMQ worker threads (lower is better)', m('w3 s') / p(bullW3), '≤ 1.0');
  }
  if (figures.has('w7 req/s')) {
    const reqTarget = store === 'redis' ? '≥ 1.2' : store === 'mysql' ? '≥ 1.0' : '(not a target)';
    line('W7 req/s / BullMQ (both consumers running)', m('w7 req/s') / p('bullmq w7 req/s'), reqTarget);
    line('W7 p99 / BullMQ p99 (lower is better)', m('w7-p99 ms') / p('bullmq w7-p99'), store === 'mysql' ? '≤ 1.0' : '(not a target)');
    line('W7 drain after the load (s)', m('w7-drain ms') / 1000, store === 'mysql' ? '≤ 2' : '(not a target)');
    line('W7 runtime CPU per 1k jobs / the same jobs from a backlog', m('w7-cpu-per-1k ms') / m('w7-backlog-cpu-per-1k ms'), '≤ 2.0');
    if (store === 'sqlite') line("W7 SQLite req/s / issue 14's 1,429 (compare with MySQL's ratio)", m('w7 req/s') / 1429, '≥ 2.0');
    // Where the two cores went, per 1,000 jobs end to end: web server + store server + consumer
    // (the consumer and the store counted until the backlog drained, so a consumer that falls
    // behind is charged for the work it did after the load). SQLite's store is in the processes.
    const ours = m('w7-server-cpu-per-1k ms') + m('w7-cpu-per-1k ms') + (store === 'sqlite' ? 0 : m('w7-store-cpu-per-1k ms'));
    const bull = p('bullmq w7-server-cpu-per-1k') + p('bullmq w7-cpu-per-1k') + p('bullmq w7-store-cpu-per-1k');
    line('W7 CPU per 1k jobs end to end (server + store + consumer) / BullMQ', ours / bull, '(not a target)');
  }
  const plain = (what: string, v: number, target: string) => console.log(`${what.padEnd(58)} ${v.toFixed(2).padStart(6)}   target ${target}`);
  if (figures.has('idle-cpu %-of-one-core')) {
    plain('Idle CPU (% of one core, --sleep 1, after the first window)', m('idle-cpu %-of-one-core'), '< 1');
    plain('Idle CPU in the first window after start (one-off GCs)', m('idle-cpu-first-window %'), '(not a target)');
  }
  if (figures.has('w5-rss-idle MB')) plain('W5 idle RSS (MB)', m('w5-rss-idle MB'), '≤ 120');
  if (figures.has('w5-rss-idle-ts MB')) plain('W5 idle RSS, .ts job files (MB)', m('w5-rss-idle-ts MB'), '≤ 120');
  if (figures.has('w5-rss-after-1000000 MB')) plain('W5 RSS after 1M / after 100k', m('w5-rss-after-1000000 MB') / m('w5-rss-after-100000 MB'), '≤ 1.10');
  for (const name of ['w6', 'w6-c4']) {
    if (!figures.has(`${name}-wall s`)) continue;
    const label = name === 'w6' ? 'W6 mixed (--procs 4)' : 'W6 mixed (--procs 4 --concurrency 4)';
    plain(`${label} wall / ideal (lower is better)`, m(`${name}-wall/ideal x`), '≤ 1.1');
    plain(`${label} jobs overtaken by > 100 ms`, m(`${name}-overtaken jobs`), '0');
  }
  // Not a target: the same CPU work on a bare pool, no store, shows what this machine allows today.
  if (figures.has('w3 s'))
    console.log(`${'W3 / bare Piscina, same work, no store'.padEnd(58)} ${(m('w3 s') / p('piscina w3')).toFixed(2).padStart(6)}   (this machine's floor)`);
}
clearTimeout(watchdog);
process.exit(0);

function fmt(v: number): string {
  return Math.abs(v) >= 100 ? Math.round(v).toLocaleString('en-US') : v.toFixed(2);
}
