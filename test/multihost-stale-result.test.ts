// Issue 12, the stale-result recipe: host mhA runs 20 jobs; it is cut off (a silent partition,
// or a SIGSTOP of the whole host) for longer than --dead-after while a peer on mhB with one
// slot takes the jobs over; each job's first run, the one on mhA, fails, and every later run
// succeeds. A result of an old claim must never land on a newer one: every job ends completed,
// each ran exactly twice (the failed first run, the successful second), and each second run
// was logged (✔, once) by the runtime that ran it and recorded. MySQL and Redis run side by
// side on the same hosts, so one cut hits both.
//   npm run build && node --import tsx --test --test-concurrency=1 test/multihost-stale-result.test.ts
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { KINDS, type Kind, readHostTrace, runsById, scenario, type Scenario, waitForFinal, waitForStarts } from './helpers/multihost-cases.ts';
import { createRig, okIds, type Rig } from './helpers/multihost.ts';
import { bannerId } from './helpers/reliability.ts';
import { sleep, waitFor } from './helpers/wait.ts';

const JOBS = 20;
const TIMING = ['--heartbeat', '1', '--dead-after', '6', '--keep-completed'];
const CUT_MS = 10_000; // past --dead-after 6 by more than a heartbeat and a recovery round
let rig: Rig;

before(async () => {
  rig = await createRig({ hosts: ['mhA', 'mhB'], mysql: true, redis: 'aof' });
});
after(async () => {
  await rig?.close();
});

/** Jobs waiting, mhA running all of them (4 s each there), the one-slot peer (1 s each) on mhB up. */
async function setUp(kind: Kind, name: string): Promise<Scenario> {
  const sc = await scenario(rig, kind, name, JOBS, { ms: 1_000, msOn: { mhA: 4_000 }, failFirstRunOn: 'mhA' });
  sc.runtimes.set('mhA', rig.startRuntime('mhA', sc.s.url, ['--procs', '2', '--concurrency', '10', ...TIMING]));
  await waitForStarts(sc, 'mhA', JOBS, 30_000);
  sc.runtimes.set('mhB', rig.startRuntime('mhB', sc.s.url, ['--procs', '1', '--concurrency', '1', ...TIMING]));
  return sc;
}

async function check(sc: Scenario): Promise<string> {
  const final = await waitForFinal(sc, 90_000);
  const trace = readHostTrace(sc.trace);
  const runs = runsById(trace);
  const outputs = new Map([...sc.runtimes].map(([host, p]) => [host, p.output()]));
  const notCompleted = [...final].filter(([, st]) => st !== 'completed');
  // The failed run on mhA started first; stalled mid-run (SIGSTOP) it may end after the peer's.
  const wrongRuns = sc.ids.filter((id) => {
    const r = runs.get(id) ?? [];
    return r.length !== 2 || r.filter((x) => x.outcome === 'fail' && x.host === 'mhA').length !== 1 || r.filter((x) => x.outcome === 'ok').length !== 1;
  });
  const unlogged = sc.ids.filter((id) => {
    const second = runs.get(id)?.find((x) => x.outcome === 'ok');
    if (!second) return true;
    const ticks = [...outputs.values()].flatMap((o) => okIds(o)).filter((x) => x === id).length;
    return ticks !== 1 || !okIds(outputs.get(second.host) ?? '').includes(id);
  });
  const onB = sc.ids.filter((id) => runs.get(id)?.find((x) => x.outcome === 'ok')?.host === 'mhB').length;
  const summary = `${sc.kind}: ${notCompleted.length} of ${JOBS} rows not completed (${notCompleted.map(([id, st]) => `${id} ${st}`).join(', ')}), ${wrongRuns.length} jobs without exactly [failed first run on mhA, successful second run], ${unlogged.length} second runs not logged once by their runtime; second runs on mhB ${onB}, on mhA ${JOBS - onB}`;
  console.log(`MULTIHOST stale-result ${summary}`);
  assert.deepEqual(notCompleted, [], `no result of an old claim applied: ${summary}`);
  assert.deepEqual(wrongRuns, [], `every job ran twice: ${summary}\n${JSON.stringify([...runs].filter(([id]) => wrongRuns.includes(id)).slice(0, 3))}`);
  assert.deepEqual(unlogged, [], `every second run logged: ${summary}`);
  return summary;
}

describe('a stale result never lands on a newer claim (cut past --dead-after, peer with one slot)', () => {
  for (const variant of ['partition', 'stall'] as const) {
    test(`${variant} of mhA for ${CUT_MS / 1000} s with --dead-after 6: every job ends completed, each second run logged and recorded`, async () => {
      const scs = await Promise.all(KINDS.map((k) => setUp(k, `stale_${variant}`)));
      await Promise.all(scs.map((sc) => waitFor(`the ${sc.kind} banner on mhB`, () => bannerId(sc.runtimes.get('mhB')!.output()), 20_000)));
      const early = scs.flatMap((sc) => readHostTrace(sc.trace).filter((l) => l.kind === 'run'));
      assert.deepEqual(early, [], 'the cut starts while every first run is still running');
      if (variant === 'partition') rig.partition('mhA');
      else rig.stall('mhA');
      await sleep(CUT_MS); // the cut's length is the scenario, not a wait for an event
      if (variant === 'partition') rig.heal('mhA');
      else rig.resume('mhA');
      const results = await Promise.allSettled(scs.map((sc) => check(sc)));
      const failures = results.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason as Error);
      if (failures.length > 0) throw new Error(failures.map((e) => e.message).join('\n\n'));
      await rig.procs.killAll();
    });
  }
});
