// Issue 12: a host that dies is recovered within --dead-after + one heartbeat, with the
// defaults (--heartbeat 5, --dead-after 30). mhA runs 6 long jobs of a MySQL and of a Redis
// store; a peer on mhB runs both stores too; every process of mhA is SIGKILLed at once. The
// peer must log its recovery of mhA's runtime at most 35 s later, and run every job again.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { KINDS, type Kind, readHostTrace, scenario, type Scenario, waitForFinal, waitForStarts } from './helpers/multihost-cases.ts';
import { createRig, logLines, type Rig } from './helpers/multihost.ts';
import { bannerId } from './helpers/reliability.ts';
import { waitFor } from './helpers/wait.ts';

const JOBS = 6;
const HEARTBEAT_MS = 5_000;
const DEAD_AFTER_MS = 30_000;
let rig: Rig;

before(async () => {
  rig = await createRig({ hosts: ['mhA', 'mhB'], mysql: true, redis: 'aof' });
});
after(async () => {
  await rig?.close();
});

async function setUp(kind: Kind): Promise<Scenario> {
  // Long on mhA (still running when it dies), short on the peer.
  const sc = await scenario(rig, kind, 'host_death', JOBS, { ms: 50, msOn: { mhA: 120_000 } });
  sc.runtimes.set('mhA', rig.startRuntime('mhA', sc.s.url, ['--procs', '2', '--concurrency', '5']));
  await waitForStarts(sc, 'mhA', JOBS, 30_000);
  sc.runtimes.set('mhB', rig.startRuntime('mhB', sc.s.url, ['--procs', '2', '--concurrency', '5']));
  await waitFor(`the ${kind} banner on mhB`, () => bannerId(sc.runtimes.get('mhB')!.output()), 20_000);
  return sc;
}

async function check(sc: Scenario, killedAt: number): Promise<void> {
  const aId = bannerId(sc.runtimes.get('mhA')!.output())!;
  const b = sc.runtimes.get('mhB')!;
  const bound = DEAD_AFTER_MS + HEARTBEAT_MS;
  const line = await waitFor(
    `mhB to recover ${aId} (${sc.kind})`,
    () => logLines(b.output()).find((l) => l.text.includes('Recovered') && l.text.includes(aId)),
    bound + 10_000,
    100,
  ).catch(() => null);
  const took = line ? line.at - killedAt : Number.NaN;
  const final = await waitForFinal(sc, 20_000).catch(() => null);
  const rerun = new Set(
    readHostTrace(sc.trace)
      .filter((l) => l.kind === 'run' && l.host === 'mhB')
      .map((l) => l.id),
  );
  const summary = `${sc.kind}: recovered ${line ? `${(took / 1000).toFixed(1)} s` : 'not within 45 s'} after SIGKILL of mhA (bound ${bound / 1000} s), ${rerun.size} of ${JOBS} jobs run again on mhB`;
  console.log(`MULTIHOST host-death ${summary}`);
  assert.ok(line && took <= bound, summary);
  assert.ok(final, summary);
  assert.equal(rerun.size, JOBS, summary);
}

test('a host killed with -9 is recovered within --dead-after + one heartbeat, with the defaults (MySQL, Redis)', async () => {
  const scs = await Promise.all(KINDS.map((k) => setUp(k)));
  const killedAt = Date.now();
  assert.equal(rig.killHost('mhA'), 2, 'every process of mhA: its two runtimes');
  const results = await Promise.allSettled(scs.map((sc) => check(sc, killedAt)));
  const failures = results.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason as Error);
  if (failures.length > 0) throw new Error(failures.map((e) => e.message).join('\n\n'));
});
