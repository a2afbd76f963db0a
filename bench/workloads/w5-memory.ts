// W5: RSS of the runtime idle with 4 threads, then after 100k and after 1M no-op jobs. A leak
// shows as growth between the last two.
import { wakeRuntimes } from '../../dist/src/wake/wake-sender.js';
import Noop from '../jobs/Noop.mjs';
import { freshStore, ROOT, result, rssOf, sleep, startRuntime, waitUntilDone, type StoreKind } from '../lib.ts';
import { join } from 'node:path';

export async function w5(kind: StoreKind, marks: number[]): Promise<number[]> {
  const b = await freshStore(kind, 'w5');
  const runtime = startRuntime(b.url, ['--procs', '4', '--quiet']);
  const rss: number[] = [];
  try {
    await runtime.ready;
    rss.push(rssOf(runtime.pid));
    result(kind, 'w5-rss-idle', rss[0]! / 1048576, 'MB');
    let done = 0;
    for (const mark of marks) {
      while (done < mark) {
        const n = Math.min(20_000, mark - done);
        await Noop.dispatchMany(Array.from({ length: n }, (_, i) => ({ i })));
        wakeRuntimes(b.store.displayUrl);
        await waitUntilDone(b, 300_000, { everyMs: 20 }); // --quiet: no lines to count
        done += n;
      }
      await sleep(1000); // let the last results and GC settle
      const r = rssOf(runtime.pid);
      rss.push(r);
      result(kind, `w5-rss-after-${mark >= 1_000_000 ? `${mark / 1_000_000}M` : `${mark / 1000}k`}`, r / 1048576, 'MB');
    }
    return rss;
  } finally {
    await runtime.stop();
    await b.drop();
  }
}

/** W5's TypeScript line: idle RSS with 4 threads and the same no-op job as a .ts file. */
export async function w5TypeScriptIdle(kind: StoreKind): Promise<number> {
  const b = await freshStore(kind, 'w5ts');
  const runtime = startRuntime(b.url, ['--procs', '4', '--quiet', '--jobs-dir', join(ROOT, 'bench/ts-jobs')]);
  try {
    await runtime.ready;
    const rss = rssOf(runtime.pid);
    result(kind, 'w5-rss-idle-ts', rss / 1048576, 'MB');
    return rss;
  } finally {
    await runtime.stop();
    await b.drop();
  }
}
