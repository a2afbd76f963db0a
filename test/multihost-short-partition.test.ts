// Issue 12: a partition shorter than `--dead-after − --heartbeat − slack` must not make a
// runtime look dead. With --heartbeat 1 --dead-after 20, mhA is cut off for 16 s (20 − 1 − 3 s of
// slack) while it runs 20 jobs of 5 s, whose results fall due during the cut; a peer on mhB
// with free slots watches. Nothing may run twice: every job ran once, on mhA, ended completed,
// and the peer recovered nobody. MySQL and Redis side by side on the same hosts.
//   npm run build && node --import tsx --test --test-concurrency=1 test/multihost-short-partition.test.ts
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { KINDS, type Kind, readHostTrace, runsById, scenario, type Scenario, waitForFinal, waitForStarts, watchSilence } from './helpers/multihost-cases.ts';
import { createRig, type Rig } from './helpers/multihost.ts';
import { bannerId } from './helpers/reliability.ts';
import { sleep, waitFor } from './helpers/wait.ts';

const JOBS = 20;
const HEARTBEAT_S = 1;
const DEAD_AFTER_S = 20;
// 16 s: past the sixth TCP retransmission of a beat sent in the cut's first second (0.2 + 0.4 +
// … + 6.4 = 12.6 s after it), so a beat stuck in the cut arrives only at its seventh, 25.4 s after.
const SLACK_S = 3;
const CUT_MS = Math.round((DEAD_AFTER_S - HEARTBEAT_S - SLACK_S) * 1000);
const TIMING = ['--heartbeat', String(HEARTBEAT_S), '--dead-after', String(DEAD_AFTER_S), '--keep-completed'];
let rig: Rig;

before(async () => {
  rig = await createRig({ hosts: ['mhA', 'mhB'], mysql: true, redis: 'aof' });
});
after(async () => {
  await rig?.close();
});

async function setUp(kind: Kind): Promise<Scenario> {
  const sc = await scenario(rig, kind, 'short_cut', JOBS, { ms: 5_000 });
  sc.runtimes.set('mhA', rig.startRuntime('mhA', sc.s.url, ['--procs', '2', '--concurrency', '10', ...TIMING]));
  await waitForStarts(sc, 'mhA', JOBS, 30_000);
  sc.runtimes.set('mhB', rig.startRuntime('mhB', sc.s.url, ['--procs', '2', '--concurrency', '10', ...TIMING]));
  await waitFor(`the ${kind} banner on mhB`, () => bannerId(sc.runtimes.get('mhB')!.output()), 20_000);
  return sc;
}

async function check(sc: Scenario, silence: { stop(): Promise<number> }): Promise<void> {
  const final = await waitForFinal(sc, 60_000);
  // A peer that wrongly took mhA for dead reruns within a heartbeat of its recovery: give it that.
  await sleep(HEARTBEAT_S * 1000 + 500);
  const silentMs = await silence.stop();
  const runs = runsById(readHostTrace(sc.trace));
  const twice = sc.ids.filter((id) => (runs.get(id)?.length ?? 0) > 1);
  const onB = sc.ids.filter((id) => runs.get(id)?.some((r) => r.host === 'mhB'));
  const notCompleted = [...final].filter(([, st]) => st !== 'completed');
  const recovered = /Recovered \d+ dead runtime\(s\).*/.exec(sc.runtimes.get('mhB')!.output())?.[0] ?? 'nothing';
  const summary = `${sc.kind}: ${twice.length} of ${JOBS} jobs ran twice (${onB.length} on mhB), ${notCompleted.length} not completed; the store heard nothing from mhA for up to ${(silentMs / 1000).toFixed(1)} s; mhB recovered: ${recovered}`;
  console.log(`MULTIHOST short-partition ${CUT_MS / 1000} s ${summary}`);
  assert.deepEqual(twice, [], `nothing runs twice: ${summary}`);
  assert.deepEqual(notCompleted, [], summary);
  assert.equal(recovered, 'nothing', summary);
}

test(`a ${CUT_MS / 1000} s partition with --heartbeat ${HEARTBEAT_S} --dead-after ${DEAD_AFTER_S}: nothing runs twice (MySQL, Redis)`, async () => {
  const scs = await Promise.all(KINDS.map((k) => setUp(k)));
  assert.deepEqual(
    scs.flatMap((sc) => readHostTrace(sc.trace).filter((l) => l.kind === 'run')),
    [],
    'the cut starts while every run is still going',
  );
  const silences = scs.map((sc) => watchSilence(sc, 'mhA'));
  rig.partition('mhA');
  await sleep(CUT_MS); // the cut's length is the scenario, not a wait for an event
  rig.heal('mhA');
  const results = await Promise.allSettled(scs.map((sc, i) => check(sc, silences[i]!)));
  const failures = results.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason as Error);
  if (failures.length > 0) throw new Error(failures.map((e) => e.message).join('\n\n'));
});
