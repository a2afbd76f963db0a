// W1 once, with where the CPU went: `node --import tsx bench/w1-cpu.ts [--store mysql|sqlite|redis]
// [--jobs 60000] [--job noop|wait10] [-- <extra start options>]`. Prints jobs/s and the CPU time
// per job of the runtime (master and threads) and of the store's server process (mariadbd or
// redis-server), read from /proc. On 2 cores they share, the sum bounds W1; this is what told
// which side to work on. `--job wait10` runs 10 ms I/O-bound jobs instead of no-ops (give
// `-- --concurrency 4`): the per-job cost at a moderate pace, where batches are small.
// With JOBS_BENCH_NODE_ARGS='--cpu-prof --cpu-prof-dir=DIR' the runtime writes profiles.
import { execFileSync } from 'node:child_process';
import { wakeRuntimes } from '../dist/src/wake/wake-sender.js';
import Noop from './jobs/Noop.mjs';
import Wait10 from './jobs/Wait10.mjs';
import { cpuMsOf, freshStore, logSize, now, startRuntime, waitUntilDone, type StoreKind } from './lib.ts';

const args = process.argv.slice(2);
const split = args.indexOf('--');
const extra = split >= 0 ? args.slice(split + 1) : [];
const value = (name: string, fallback: string) => {
  const i = args.indexOf(name);
  return i >= 0 && (split < 0 || i < split) && args[i + 1] ? args[i + 1]! : fallback;
};
const kind = value('--store', 'mysql') as StoreKind;
const jobs = Number(value('--jobs', '60000'));
const jobName = value('--job', 'noop');
const JobClass = { noop: Noop, wait10: Wait10 }[jobName];
if (!JobClass) throw new Error(`--job must be noop or wait10, got '${jobName}'`);
if (!['mysql', 'sqlite', 'redis'].includes(kind)) throw new Error(`--store must be mysql, sqlite or redis, got '${kind}'`);
if (!Number.isInteger(jobs) || jobs < 1000) throw new Error(`--jobs must be a whole number ≥ 1000, got '${value('--jobs', '')}'`);

/** The server's pid, or null for SQLite (in the runtime's own process). */
function serverPid(): number | null {
  if (kind === 'sqlite') return null;
  const name = kind === 'mysql' ? 'mariadbd' : 'redis-server';
  const out = execFileSync('pidof', ['-s', name], { encoding: 'utf8' }).trim();
  if (!out) throw new Error(`${name} is not running`);
  return Number(out);
}

const b = await freshStore(kind, 'w1cpu');
const runtime = startRuntime(b.url, ['--procs', '4', '--sleep', '600', ...extra]);
try {
  await runtime.ready;
  process.env.JOBS_WAKE = '0';
  const payloads = Array.from({ length: jobs }, (_, i) => ({ i }));
  for (let i = 0; i < jobs; i += 1000) await JobClass.dispatchMany(payloads.slice(i, i + 1000));
  process.env.JOBS_WAKE = '1';
  const server = serverPid();
  const log = { file: runtime.logFile, fromByte: logSize(runtime.logFile), expectedLines: jobs };
  const before = { server: server ? cpuMsOf(server) : 0, runtime: cpuMsOf(runtime.pid) };
  const t0 = now();
  wakeRuntimes(b.store.displayUrl);
  const t1 = await waitUntilDone(b, 300_000, { log });
  const perJob = (ms: number) => `${((ms * 1000) / jobs).toFixed(0)} µs`;
  console.log(
    `W1 ${kind}: ${jobs} ${jobName} jobs at ${Math.round((jobs / (t1 - t0)) * 1000)} jobs/s; CPU per job: runtime ${perJob(cpuMsOf(runtime.pid) - before.runtime)}` +
      (server ? `, ${kind === 'mysql' ? 'mariadbd' : 'redis-server'} ${perJob(cpuMsOf(server) - before.server)}` : ''),
  );
} finally {
  await runtime.stop();
  await b.drop();
}
process.exit(0);
