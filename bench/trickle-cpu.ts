// What a steady trickle of single dispatches costs a runtime (`start --procs 2`): its CPU per
// 1,000 jobs (per thread, from /proc), and how many claims took them (its /metrics). A rate of
// 0 enqueues the jobs first and wakes the runtime once, as W1 does: the backlog reference.
//   npm run build && node --import tsx bench/trickle-cpu.ts <mysql|sqlite|redis> <jobs> <per-second>
import { cpuMsOf, freshStore, logSize, type StoreKind, sleep, startRuntime, waitUntilDone } from './lib.ts';
import Noop from './jobs/Noop.mjs';

const [kind = 'sqlite', jobsText = '2000', rateText = '500'] = process.argv.slice(2);
const jobs = Number(jobsText);
const rate = Number(rateText);
const b = await freshStore(kind as StoreKind, 'trickle');
const port = 20000 + (process.pid % 20000);
const runtime = startRuntime(b.url, ['--procs', '2', '--metrics-port', String(port)]);
try {
  await runtime.ready;
  await sleep(500);
  const metric = async (name: string) => {
    const t = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    return Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(t)?.[1] ?? Number.NaN);
  };
  const { readdirSync, readFileSync } = await import('node:fs');
  const perThread = () =>
    new Map(
      readdirSync(`/proc/${runtime.pid}/task`).map((t) => {
        const st = readFileSync(`/proc/${runtime.pid}/task/${t}/stat`, 'utf8');
        const name = /\((.*)\)/.exec(st)![1]!;
        const f = st.split(') ')[1]!.split(' ');
        return [`${t} ${name}`, (Number(f[11]) + Number(f[12])) * 10] as const;
      }),
    );
  const t0 = perThread();
  const c0 = cpuMsOf(runtime.pid);
  const k0 = await metric('jobs_runtime_claims_total');
  const log = { file: runtime.logFile, fromByte: logSize(runtime.logFile), expectedLines: jobs };
  const start = performance.now();
  const pending: Promise<unknown>[] = [];
  if (rate === 0) {
    process.env.JOBS_WAKE = '0';
    const all = Array.from({ length: jobs }, (_, i) => ({ i }));
    for (let i = 0; i < jobs; i += 1000) await Noop.dispatchMany(all.slice(i, i + 1000));
    process.env.JOBS_WAKE = '1';
    const { wakeRuntimes } = await import('../dist/src/wake/wake-sender.js');
    wakeRuntimes(b.store.displayUrl);
  }
  for (let i = 0; rate > 0 && i < jobs; i++) {
    const wait = start + (i * 1000) / rate - performance.now();
    if (wait > 0) await sleep(wait);
    pending.push(new Noop().dispatch({ i }));
  }
  await Promise.all(pending);
  const sent = performance.now() - start;
  await waitUntilDone(b, 60_000, { log });
  const cpu = cpuMsOf(runtime.pid) - c0;
  for (const [k, v] of perThread()) if (v - (t0.get(k) ?? 0) > 0) console.log(`  thread ${k}: ${v - (t0.get(k) ?? 0)} ms`);
  const claims = (await metric('jobs_runtime_claims_total')) - k0;
  const claimed = await metric('jobs_runtime_claimed_jobs_total');
  console.log(
    `${kind}: ${jobs} jobs at ${((jobs / sent) * 1000).toFixed(0)}/s: runtime CPU ${cpu} ms = ${((cpu / jobs) * 1000).toFixed(0)} ms per 1,000 jobs; ${claims} claims (${claimed} jobs claimed)`,
  );
} finally {
  await runtime.stop();
  await b.drop();
}
process.exit(0);
