import assert from 'node:assert/strict';
import type { Kind } from './multihost-cases.ts';
import { type Rig, withPort } from './multihost.ts';
import { backlogThroughput } from './multihost-throughput.ts';

// Issue 12: with +50 ms of round trip to the store (a delay proxy, 25 ms each way), a runtime
// on mhA gets through a backlog of 2,000 no-op jobs at a good fraction of its direct throughput.
// The target, within 3×, is measured by `npm run bench -- --only xhost` (2.1–2.6× there);
// here the bound is 6×: the direct run lasts about 0.25 s since issue 13's pool (8,000–11,000
// jobs/s), so one late round trip moves the ratio by a lot on a busy machine (2.8–5.2× in this
// session's CI runs, with the +50 ms figure itself at 1,600–2,000 jobs/s before and after its
// changes), while the collapse this guards against was 251×. The slow run is stopped at six
// times the direct run's duration (+5 s).

export const RTT_JOBS = 2_000;
export const RTT_BOUND = 6;

export async function rttCase(rig: Rig, kind: Kind): Promise<void> {
  const directStore = await rig.openStore(kind, 'rtt_direct');
  const direct = await backlogThroughput(rig, directStore, directStore.url, RTT_JOBS, 60_000);
  assert.equal(direct.done, RTT_JOBS, `the direct run did all ${RTT_JOBS} jobs within 60 s (${direct.done})`);
  const slowStore = await rig.openStore(kind, 'rtt_slow');
  const serverPort = Number(new URL(slowStore.url).port);
  const proxyPort = await rig.delayProxy(serverPort, 25);
  const slow = await backlogThroughput(rig, slowStore, withPort(slowStore.url, proxyPort), RTT_JOBS, RTT_BOUND * direct.ms + 5_000);
  const ratio = direct.jobsPerSecond / slow.jobsPerSecond;
  const summary = `${kind}: direct ${Math.round(direct.jobsPerSecond)} jobs/s, +50 ms RTT ${Math.round(slow.jobsPerSecond)} jobs/s (${slow.done} of ${RTT_JOBS} done in ${(slow.ms / 1000).toFixed(1)} s): ${ratio.toFixed(2)}× slower (bound ${RTT_BOUND}×)`;
  console.log(`MULTIHOST rtt ${summary}`);
  assert.ok(ratio <= RTT_BOUND, summary);
}
