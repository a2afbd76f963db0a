// W1: N no-op jobs enqueued with dispatchMany (1,000 per call, as the peers' bulk APIs), then
// processed by `start --procs 4`; the time runs from the wake-up until the store holds no job.
// Flow-control variants (issue 15) run the same jobs with one feature on every job, to show its
// cost on the claim/run/record path against plain W1 in the same run:
//   priorities   random priorities from -10 to 10 (21 levels)
//   unique       a unique key on every job (none collide)
//   concurrency  a concurrency key on every job (limit 1, no two jobs share a key)
// `w1outcomes` (issue 17) runs plain W1 with job outcomes kept (the default, 1 h) and with
// `--keep-outcomes 0`, named by `variant`, to show what keeping them costs on the record path.
import { dispatchJobs } from '../../dist/src/dispatcher.js';
import { wakeRuntimes } from '../../dist/src/wake/wake-sender.js';
import Noop from '../jobs/Noop.mjs';
import { freshStore, logSize, now, result, startRuntime, waitUntilDone, type StoreKind } from '../lib.ts';

export type W1Flavour = 'plain' | 'priorities' | 'unique' | 'concurrency';

/** Per-job dispatch options of a flavour. */
function optionsOf(flavour: W1Flavour, i: number): Record<string, unknown> {
  if (flavour === 'priorities') return { priority: Math.floor(Math.random() * 21) - 10 };
  if (flavour === 'unique') return { unique: { key: `u${i}` } };
  if (flavour === 'concurrency') return { concurrencyLimit: { limit: 1, key: `k${i}` } };
  return {};
}

/** 1,000 jobs per call, each with its flavour's own options (dispatchMany takes one set per call). */
async function dispatchFlavoured(flavour: W1Flavour, from: number, count: number): Promise<void> {
  const job = new Noop();
  const rows = Array.from({ length: count }, (_, k) => job.toNewJob({ i: from + k }, optionsOf(flavour, from + k)));
  await dispatchJobs(Noop, rows);
}

export async function w1(
  kind: StoreKind,
  jobs: number,
  flavour: W1Flavour = 'plain',
  variant?: { name: string; args: string[] },
): Promise<{ enqueue: number; process: number }> {
  const b = await freshStore(kind, variant ? variant.name.replaceAll('-', '') : flavour === 'plain' ? 'w1' : `w1${flavour.slice(0, 4)}`);
  // Started idle with a long poll, so it starts the work only when woken below.
  const runtime = startRuntime(b.url, ['--procs', '4', '--sleep', '600', ...(variant?.args ?? [])]);
  try {
    await runtime.ready;
    process.env.JOBS_WAKE = '0'; // no wake-up while enqueueing: the enqueue is timed alone
    const payloads = Array.from({ length: jobs }, (_, i) => ({ i }));
    const t0 = now();
    for (let i = 0; i < jobs; i += 1000) {
      if (flavour === 'plain') await Noop.dispatchMany(payloads.slice(i, i + 1000));
      else await dispatchFlavoured(flavour, i, Math.min(1000, jobs - i));
    }
    const enqueueMs = now() - t0;
    process.env.JOBS_WAKE = '1';
    const log = { file: runtime.logFile, fromByte: logSize(runtime.logFile), expectedLines: jobs };
    const t1 = now();
    wakeRuntimes(b.store.displayUrl);
    const t2 = await waitUntilDone(b, 120_000, { log });
    const enqueue = (jobs / enqueueMs) * 1000;
    const processing = (jobs / (t2 - t1)) * 1000;
    const name = variant?.name ?? (flavour === 'plain' ? 'w1' : `w1-${flavour}`);
    result(kind, `${name}-enqueue`, enqueue, 'jobs/s');
    result(kind, name, processing, 'jobs/s');
    return { enqueue, process: processing };
  } finally {
    await runtime.stop();
    await b.drop();
  }
}
