import { jobRow } from './job-rows.ts';
import { logLines, type Rig, type RigStore } from './multihost.ts';
import { sleep, waitFor } from './wait.ts';

// Throughput of a runtime on mhA over a backlog of no-op jobs, as its own ✔ lines time it
// (first to last: thread start-up is left out). A run that is not done within `boundMs` of its
// first ✔ is stopped and measured on what it did, so a slow link fails the case in bounded time.

export interface Throughput {
  jobsPerSecond: number;
  done: number;
  ms: number;
}

export async function backlogThroughput(rig: Rig, s: RigStore, url: string, jobs: number, boundMs: number): Promise<Throughput> {
  for (let i = 0; i < jobs; i += 1000) {
    await s.store.producer.enqueue({ jobs: Array.from({ length: Math.min(1000, jobs - i) }, () => jobRow({ handler: 'Ok' })) });
  }
  const p = rig.startRuntime('mhA', url, ['--procs', '2', '--stop-when-empty'], { timeoutMs: boundMs + 60_000 });
  const ticks = () => logLines(p.output()).filter((l) => l.text.startsWith('✔ Job processed successfully'));
  const first = await waitFor(`the first job done through ${url}`, () => ticks()[0], 30_000, 20);
  const deadline = first.at + boundMs;
  while (ticks().length < jobs && Date.now() < deadline && !p.exited()) await sleep(50);
  const done = ticks();
  const finished = done.length >= jobs;
  if (!p.exited()) p.child.kill('SIGKILL');
  await p.done;
  const ms = finished ? done[done.length - 1]!.at - first.at : Date.now() - first.at;
  return { jobsPerSecond: ((done.length - 1) / Math.max(ms, 1)) * 1000, done: done.length, ms };
}
