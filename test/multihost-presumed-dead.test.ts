// Issue 12, self-fencing: mhA runs 20 jobs of 5 s and is cut off for 12 s, past
// --dead-after 6 (--heartbeat 1); a peer on mhB with 20 slots takes the jobs over. The cut-off
// runtime must know it: within one heartbeat of the threshold (its last successful beat plus
// dead-after − heartbeat, so between cut + dead-after − 2 × heartbeat and cut + dead-after) it
// logs
//   WARN  No heartbeat reached the store for <N> s: peers may presume this runtime dead; claiming stopped until the store is reachable
// starts nothing more while cut off, and once the link is back it drops the results of the
// jobs the peer took over, saying so,
//   Dropped <n> result(s) of jobs a peer took over
// and prints no ✔ for any of them. (The wording is the one the lead announced for issue 12.)
//   npm run build && node --import tsx --test --test-concurrency=1 test/multihost-presumed-dead.test.ts
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { KINDS, type Kind, readHostTrace, scenario, type Scenario, waitForFinal, waitForStarts } from './helpers/multihost-cases.ts';
import { createRig, logLines, okIds, type Rig } from './helpers/multihost.ts';
import { bannerId } from './helpers/reliability.ts';
import { sleep, waitFor } from './helpers/wait.ts';

const JOBS = 20;
const HEARTBEAT_S = 1;
const DEAD_AFTER_S = 6;
const CUT_MS = 12_000;
const TIMING = ['--heartbeat', String(HEARTBEAT_S), '--dead-after', String(DEAD_AFTER_S), '--keep-completed'];
const PRESUMED_DEAD = /No heartbeat reached the store for [\d.]+ s: peers may presume this runtime dead; claiming stopped until the store is reachable/;
const DROPPED = /Dropped (\d+) result\(s\) of jobs a peer took over/g;
let rig: Rig;

before(async () => {
  rig = await createRig({ hosts: ['mhA', 'mhB'], mysql: true, redis: 'aof' });
});
after(async () => {
  await rig?.close();
});

async function setUp(kind: Kind): Promise<Scenario> {
  const sc = await scenario(rig, kind, 'presumed_dead', JOBS, { ms: 500, msOn: { mhA: 5_000 } });
  sc.runtimes.set('mhA', rig.startRuntime('mhA', sc.s.url, ['--procs', '2', '--concurrency', '10', ...TIMING]));
  await waitForStarts(sc, 'mhA', JOBS, 30_000);
  sc.runtimes.set('mhB', rig.startRuntime('mhB', sc.s.url, ['--procs', '2', '--concurrency', '10', ...TIMING]));
  await waitFor(`the ${kind} banner on mhB`, () => bannerId(sc.runtimes.get('mhB')!.output()), 20_000);
  return sc;
}

/** While cut off: the warning, in its window, and no run started on mhA after it. */
async function checkWarning(sc: Scenario, cutAt: number, healAt: number): Promise<string> {
  const a = sc.runtimes.get('mhA')!;
  const line = logLines(a.output()).find((l) => l.level === 'WARN' && PRESUMED_DEAD.test(l.text));
  const seen = line ? `${((line.at - cutAt) / 1000).toFixed(2)} s after the cut` : `not logged during the ${CUT_MS / 1000} s cut`;
  const summary = `${sc.kind}: "may presume this runtime dead" ${seen} (window ${DEAD_AFTER_S - 2 * HEARTBEAT_S}–${DEAD_AFTER_S} s)`;
  console.log(`MULTIHOST presumed-dead ${summary}`);
  assert.ok(line, `${summary}\nmhA's output:\n${a.output().slice(-1500)}`);
  const earliest = cutAt + (DEAD_AFTER_S - 2 * HEARTBEAT_S) * 1000 - 250;
  const latest = cutAt + DEAD_AFTER_S * 1000 + 250;
  assert.ok(line.at >= earliest && line.at <= latest, summary);
  const startedAfter = readHostTrace(sc.trace).filter((l) => l.kind === 'start' && l.host === 'mhA' && l.at > line.at && l.at < healAt);
  assert.deepEqual(startedAfter, [], `${sc.kind}: claiming stopped: no run starts on mhA after the warning while cut off`);
  return summary;
}

/** Once the link is back: the dropped results said once, no ✔ for any of them. */
async function checkDropped(sc: Scenario): Promise<string> {
  await waitForFinal(sc, 60_000);
  const a = sc.runtimes.get('mhA')!;
  const b = sc.runtimes.get('mhB')!;
  const takenOver = okIds(b.output());
  // The runtime may drop them in more than one batch: the lines' counts add up.
  const droppedCount = () => [...a.output().matchAll(DROPPED)].reduce((n, m) => n + Number(m[1]), 0);
  const dropped = await waitFor(`mhA's "Dropped … result(s)" lines (${sc.kind})`, () => droppedCount() >= JOBS, 30_000).catch(() => false);
  const ticksOnA = okIds(a.output()).filter((id) => takenOver.includes(id));
  const summary = `${sc.kind}: mhB ran ${takenOver.length} of ${JOBS} again; mhA printed ✔ for ${ticksOnA.length} of those; ${droppedCount()} result(s) said dropped ("Dropped <n> result(s) of jobs a peer took over") within 30 s of the jobs ending`;
  console.log(`MULTIHOST presumed-dead ${summary}`);
  assert.equal(takenOver.length, JOBS, summary);
  assert.deepEqual(ticksOnA, [], `no ✔ for dropped results: ${summary}`);
  assert.ok(dropped, summary);
  assert.equal(droppedCount(), JOBS, summary);
  return summary;
}

test(`cut off ${CUT_MS / 1000} s past --dead-after ${DEAD_AFTER_S}: warns in time, stops claiming, no ✔ for dropped results (MySQL, Redis)`, async () => {
  const scs = await Promise.all(KINDS.map((k) => setUp(k)));
  const cutAt = Date.now();
  rig.partition('mhA');
  await sleep(CUT_MS); // the cut's length is the scenario, not a wait for an event
  const healAt = Date.now();
  const during = await Promise.allSettled(scs.map((sc) => checkWarning(sc, cutAt, healAt)));
  rig.heal('mhA');
  const afterwards = await Promise.allSettled(scs.map((sc) => checkDropped(sc)));
  const failures = [...during, ...afterwards].filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason as Error);
  if (failures.length > 0) throw new Error(failures.map((e) => e.message).join('\n\n'));
});
