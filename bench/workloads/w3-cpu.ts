// W3: 400 jobs of ~20 ms synchronous CPU each (the peers' calibrated loop) on `--procs 4`;
// wall time from the wake-up until the store holds no job. Ideal on 2 cores: 400 × 20 / 2 = 4.0 s.
import { wakeRuntimes } from '../../dist/src/wake/wake-sender.js';
import Burn from '../jobs/Burn.mjs';
import { freshStore, logSize, now, result, startRuntime, waitUntilDone, type StoreKind } from '../lib.ts';

export async function w3(kind: StoreKind, jobs: number): Promise<number> {
  const b = await freshStore(kind, 'w3');
  const runtime = startRuntime(b.url, ['--procs', '4', '--sleep', '600']);
  try {
    await runtime.ready;
    process.env.JOBS_WAKE = '0';
    await Burn.dispatchMany(Array.from({ length: jobs }, () => ({})));
    process.env.JOBS_WAKE = '1';
    const log = { file: runtime.logFile, fromByte: logSize(runtime.logFile), expectedLines: jobs };
    const t0 = now();
    wakeRuntimes(b.store.displayUrl);
    const seconds = ((await waitUntilDone(b, 120_000, { log })) - t0) / 1000;
    result(kind, 'w3', seconds, 's');
    return seconds;
  } finally {
    await runtime.stop();
    await b.drop();
  }
}
