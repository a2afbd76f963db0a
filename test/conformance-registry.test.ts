// The registry role on every store: runtimes and heartbeats, recovery of dead runtimes, leases.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import type { JobStore } from '../src/stores/store.ts';
import { describeEachStore, reopen } from './helpers/conformance.ts';
import type { StoreFixture } from './helpers/stores.ts';
import { jobRow } from './helpers/job-rows.ts';

describeEachStore('registry', (fixture) => {
  let fx: StoreFixture;
  let store: JobStore;
  before(() => {
    fx = fixture();
    store = fixture().store;
  });
  const info = (id: string) => ({ id, host: 'h', pid: 1, queues: ['a', 'b'], threads: 4 });
  const stats = { cpuPercent: 12.5, rssBytes: 50_000_000, jobsDone: 10, jobsFailed: 2, busyThreads: 3 };

  test('register, heartbeat with stats, list, deregister', async () => {
    await store.registry.registerRuntime({ runtime: { ...info('reg-1'), slots: 12 } });
    assert.deepEqual(await store.registry.heartbeat({ runtime: { ...info('reg-1'), slots: 12 }, stats, timeoutMs: 5_000 }), { wasRegistered: true });
    const mine = (await store.registry.listRuntimes({})).find((r) => r.id === 'reg-1')!;
    assert.deepEqual(
      {
        queues: mine.queues,
        threads: mine.threads,
        slots: mine.slots,
        cpu: mine.cpuPercent,
        rss: mine.rssBytes,
        done: mine.jobsDone,
        failed: mine.jobsFailed,
        busy: mine.busyThreads,
      },
      { queues: ['a', 'b'], threads: 4, slots: 12, cpu: 12.5, rss: 50_000_000, done: 10, failed: 2, busy: 3 },
    );
    assert.ok(mine.silentForMs >= 0 && mine.silentForMs < 2_000, `silent for ${mine.silentForMs} ms`);
    await store.registry.deregisterRuntime({ id: 'reg-1' });
    assert.equal(
      (await store.registry.listRuntimes({})).some((r) => r.id === 'reg-1'),
      false,
    );
    // A runtime removed meanwhile (a peer took it for dead) learns so from its next beat.
    assert.deepEqual(await store.registry.heartbeat({ runtime: info('reg-1'), stats, timeoutMs: 5_000 }), { wasRegistered: false });
    assert.ok(
      (await store.registry.listRuntimes({})).some((r) => r.id === 'reg-1'),
      'the beat registered it again',
    );
    await store.registry.deregisterRuntime({ id: 'reg-1' });
  });

  test("a silent runtime's jobs go back to new without charging the attempt; a live one's stay", async () => {
    await store.registry.registerRuntime({ runtime: info('dead-1') });
    await store.registry.registerRuntime({ runtime: info('live-1') });
    const [d1, d2, l1] = await store.producer.enqueue({ jobs: [jobRow({ queue: 'rec' }), jobRow({ queue: 'rec' }), jobRow({ queue: 'rec' })] });
    await store.queue.claim({ owner: 'dead-1', queues: ['rec'], limit: 2 });
    await store.queue.claim({ owner: 'live-1', queues: ['rec'], limit: 1 });
    await fx.backdate.heartbeat('dead-1', 60_000);
    await store.registry.heartbeat({ runtime: info('live-1'), stats, timeoutMs: 5_000 });
    const report = await store.registry.recoverDeadRuntimes({ deadAfterMs: 30_000, maxInterruptions: 3 });
    assert.deepEqual(report, { runtimes: ['dead-1'], released: 2, failed: 0 });
    for (const id of [d1!, d2!]) {
      const row = (await store.admin.getJob({ id }))!;
      assert.deepEqual([row.status, row.attempts, row.owner, row.interruptions], ['new', 0, null, 1]);
    }
    assert.equal((await store.admin.getJob({ id: l1! }))!.owner, 'live-1', "the live runtime's job is not taken");
    assert.equal(
      (await store.registry.listRuntimes({})).some((r) => r.id === 'dead-1'),
      false,
    );
    const again = await store.registry.recoverDeadRuntimes({ deadAfterMs: 30_000, maxInterruptions: 3 });
    assert.deepEqual(again, { runtimes: [], released: 0, failed: 0 });
    await store.registry.deregisterRuntime({ id: 'live-1' });
  });

  test('alsoDead recovers a runtime at once, whatever its heartbeat', async () => {
    await store.registry.registerRuntime({ runtime: info('gone-1') });
    const [id] = await store.producer.enqueue({ jobs: [jobRow({ queue: 'rec2' })] });
    await store.queue.claim({ owner: 'gone-1', queues: ['rec2'], limit: 1 });
    const report = await store.registry.recoverDeadRuntimes({ deadAfterMs: 60_000, maxInterruptions: 3, alsoDead: ['gone-1'] });
    assert.deepEqual(report, { runtimes: ['gone-1'], released: 1, failed: 0 });
    assert.equal((await store.admin.getJob({ id: id! }))!.status, 'new');
  });

  test('a job interrupted more than maxInterruptions times is failed, saying so', async () => {
    const [id] = await store.producer.enqueue({ jobs: [jobRow({ queue: 'poison', maxAttempts: 10 })] });
    for (let i = 1; i <= 3; i++) {
      await store.registry.registerRuntime({ runtime: info(`p-${i}`) });
      await store.queue.claim({ owner: `p-${i}`, queues: ['poison'], limit: 1 });
      const r = await store.registry.recoverDeadRuntimes({ deadAfterMs: 60_000, maxInterruptions: 2, alsoDead: [`p-${i}`] });
      assert.deepEqual([r.released, r.failed], i <= 2 ? [1, 0] : [0, 1], `interruption ${i}`);
    }
    const row = (await store.admin.getJob({ id: id! }))!;
    assert.equal(row.status, 'failed');
    assert.equal(row.interruptions, 3);
    assert.match(row.exception!, /Interrupted 3 times.*more than the 2 allowed/);
    assert.ok(row.failedAt);
  });

  test('two recoverers at once: each dead runtime is recovered exactly once', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) {
      ids.push(`race-${i}`);
      await store.registry.registerRuntime({ runtime: info(`race-${i}`) });
      await store.producer.enqueue({ jobs: [jobRow({ queue: 'rrace' }), jobRow({ queue: 'rrace' })] });
      await store.queue.claim({ owner: `race-${i}`, queues: ['rrace'], limit: 2 });
    }
    const [a, b] = await Promise.all([reopen(fx), reopen(fx)]);
    try {
      const reports = await Promise.all([a, b].map((s) => s.registry.recoverDeadRuntimes({ deadAfterMs: 60_000, maxInterruptions: 3, alsoDead: ids })));
      assert.deepEqual(reports.flatMap((r) => r.runtimes).sort(), ids);
      assert.equal(reports[0]!.released + reports[1]!.released, 12);
    } finally {
      await a.close();
      await b.close();
    }
  });

  // Jobs other tests here leave claimed were claimed moments ago: with deadAfterMs 60 s and
  // this test's own claims backdated past it, the sweep's counts are this test's alone.
  test('the orphan sweep gives back jobs claimed by an owner that never registered, once as old as a dead heartbeat', async () => {
    await store.registry.registerRuntime({ runtime: info('o-live') });
    const [id, live] = await store.producer.enqueue({ jobs: [jobRow({ queue: 'orphan' }), jobRow({ queue: 'orphan-live' })] });
    await store.queue.claim({ owner: 'ghost', queues: ['orphan'], limit: 1 });
    await store.queue.claim({ owner: 'o-live', queues: ['orphan-live'], limit: 1 });
    assert.deepEqual(await store.registry.sweepOrphans({ deadAfterMs: 60_000, maxInterruptions: 3 }), { released: 0, failed: 0 }, 'too recent');
    await fx.backdate.jobs([id!, live!], 120_000, 'claimed');
    assert.equal(
      (await store.registry.recoverDeadRuntimes({ deadAfterMs: 60_000, maxInterruptions: 3 })).released,
      0,
      'not a dead runtime: recovery leaves orphans to the sweep',
    );
    assert.deepEqual(await store.registry.sweepOrphans({ deadAfterMs: 60_000, maxInterruptions: 3 }), { released: 1, failed: 0 });
    assert.equal((await store.admin.getJob({ id: id! }))!.status, 'new');
    assert.equal((await store.admin.getJob({ id: live! }))!.owner, 'o-live', "a registered owner's job is not an orphan, however old its claim");
    assert.deepEqual(await store.registry.sweepOrphans({ deadAfterMs: 60_000, maxInterruptions: 3 }), { released: 0, failed: 0 }, 'once');
    await store.registry.deregisterRuntime({ id: 'o-live' });
    assert.deepEqual(
      await store.registry.sweepOrphans({ deadAfterMs: 60_000, maxInterruptions: 3 }),
      { released: 1, failed: 0 },
      'once its owner left the registry, its old claim is an orphan too',
    );
    assert.equal((await store.admin.getJob({ id: live! }))!.status, 'new');
  });

  test('an orphan interrupted more than maxInterruptions times is failed by the sweep', async () => {
    const [id] = await store.producer.enqueue({ jobs: [jobRow({ queue: 'orphan-poison', maxAttempts: 5 })] });
    for (let i = 1; i <= 2; i++) {
      await store.queue.claim({ owner: `ghost-${i}`, queues: ['orphan-poison'], limit: 1 });
      await fx.backdate.jobs([id!], 120_000, 'claimed');
      const r = await store.registry.sweepOrphans({ deadAfterMs: 60_000, maxInterruptions: 1 });
      assert.deepEqual(r, i === 1 ? { released: 1, failed: 0 } : { released: 0, failed: 1 }, `interruption ${i}`);
    }
    const row = (await store.admin.getJob({ id: id! }))!;
    assert.equal(row.status, 'failed');
    assert.match(row.exception!, /Interrupted 2 times.*more than the 1 allowed/);
  });

  test('a lease has one holder at a time, renews, and passes on once expired', async () => {
    assert.equal(await store.registry.acquireLease({ name: 'pruner', owner: 'r1', ttlMs: 60_000 }), true);
    assert.equal(await store.registry.acquireLease({ name: 'pruner', owner: 'r2', ttlMs: 60_000 }), false);
    assert.equal(await store.registry.acquireLease({ name: 'other', owner: 'r2', ttlMs: 60_000 }), true, 'leases are by name');
    await fx.backdate.lease('pruner', 30_000);
    assert.equal(await store.registry.acquireLease({ name: 'pruner', owner: 'r1', ttlMs: 60_000 }), true, 'renewed');
    await fx.backdate.lease('pruner', 40_000); // past the first term: only the renewal holds it
    assert.equal(await store.registry.acquireLease({ name: 'pruner', owner: 'r2', ttlMs: 60_000 }), false, 'the renewal holds');
    await fx.backdate.lease('pruner', 30_000); // 70 s since the renewal
    assert.equal(await store.registry.acquireLease({ name: 'pruner', owner: 'r2', ttlMs: 60_000 }), true, 'expired: taken over');
    assert.equal(await store.registry.acquireLease({ name: 'pruner', owner: 'r1', ttlMs: 60_000 }), false);
  });

  test('a lease given up by its holder passes on at once; given up by another, it stays', async () => {
    assert.equal(await store.registry.acquireLease({ name: 'handover', owner: 'r1', ttlMs: 60_000 }), true);
    await store.registry.releaseLease({ name: 'handover', owner: 'r2' });
    assert.equal(await store.registry.acquireLease({ name: 'handover', owner: 'r2', ttlMs: 60_000 }), false, 'not released by a non-holder');
    await store.registry.releaseLease({ name: 'handover', owner: 'r1' });
    assert.equal(await store.registry.acquireLease({ name: 'handover', owner: 'r2', ttlMs: 60_000 }), true, 'taken at once after its holder gave it up');
    assert.equal(await store.registry.acquireLease({ name: 'handover', owner: 'r1', ttlMs: 60_000 }), false);
  });
});
