// W1: N no-op jobs enqueued with dispatchMany (1,000 per call, as the peers' bulk APIs), then
// processed by `start --procs 4`; the time runs from the wake-up until the store holds no job.
import { wakeRuntimes } from '../../dist/src/wake/wake-sender.js';
import Noop from '../jobs/Noop.mjs';
import { freshStore, logSize, now, result, startRuntime, waitUntilDone, type StoreKind } from '../lib.ts';

export async function w1(kind: StoreKind, jobs: number): Promise<{ enqueue: number; process: number }> {
  const b = await freshStore(kind, 'w1');
  // Started idle with a long poll, so it starts the work only when woken below.
  const runtime = startRuntime(b.url, ['--procs', '4', '--sleep', '600']);
  try {
    await runtime.ready;
    process.env.JOBS_WAKE = '0'; // no wake-up while enqueueing: the enqueue is timed alone
    const payloads = Array.from({ length: jobs }, (_, i) => ({ i }));
    const t0 = now();
    for (let i = 0; i < jobs; i += 1000) await Noop.dispatchMany(payloads.slice(i, i + 1000));
    const enqueueMs = now() - t0;
    process.env.JOBS_WAKE = '1';
    const log = { file: runtime.logFile, fromByte: logSize(runtime.logFile), expectedLines: jobs };
    const t1 = now();
    wakeRuntimes(b.store.displayUrl);
    const t2 = await waitUntilDone(b, 120_000, { log });
    const enqueue = (jobs / enqueueMs) * 1000;
    const processing = (jobs / (t2 - t1)) * 1000;
    result(kind, 'w1-enqueue', enqueue, 'jobs/s');
    result(kind, 'w1', processing, 'jobs/s');
    return { enqueue, process: processing };
  } finally {
    await runtime.stop();
    await b.drop();
  }
}
