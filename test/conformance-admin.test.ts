// The admin role on every store: counts, failed jobs, pausing, throughput, pruning.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import type { JobStore } from '../src/stores/store.ts';
import { describeEachStore, drain } from './helpers/conformance.ts';
import type { StoreFixture } from './helpers/stores.ts';
import { claimsById, failJobs, jobRow } from './helpers/job-rows.ts';

describeEachStore('admin', (fixture) => {
  let fx: StoreFixture;
  let store: JobStore;
  before(() => {
    fx = fixture();
    store = fx.store;
  });
  test('counts per queue: waiting, delayed, processing, failed', async () => {
    await store.producer.enqueue({
      jobs: [jobRow({ queue: 'cnt' }), jobRow({ queue: 'cnt' }), jobRow({ queue: 'cnt' }), jobRow({ queue: 'cnt', delayMs: 60_000 })],
    });
    const [p, f] = await store.queue.claim({ owner: 'o', queues: ['cnt'], limit: 2 });
    await store.queue.record({ owner: 'o', results: [{ id: f!.id, token: f!.token, queue: 'cnt', outcome: 'failed', error: 'x' }] });
    assert.ok(p);
    assert.deepEqual((await store.admin.counts({ queues: ['cnt'] }))[0], { queue: 'cnt', waiting: 1, delayed: 1, processing: 1, failed: 1 });
  });

  test('listFailed: filters by queue and handler, newest failure first, with the total', async () => {
    const [a1, a2, a3] = await failJobs(store, 'lf-a', ['Ok', 'mail/Send', 'Ok']);
    const [b1] = await failJobs(store, 'lf-b', ['Ok']);
    // Failed in one go: spread their failure times, so "newest first" is by time, not by id alone.
    await fx.backdate.jobs([a1!], 2_000, 'failed');
    await fx.backdate.jobs([a2!], 1_000, 'failed');
    const all = await store.admin.listFailed({ queue: 'lf-a', limit: 10 });
    assert.equal(all.total, 3);
    assert.deepEqual(
      all.jobs.map((j) => j.id),
      [a3, a2, a1],
    );
    assert.equal(all.jobs[0]!.exception, `Error: job ${a3} failed\n    at run (job.ts:3:11)`);
    assert.equal(all.jobs[0]!.status, 'failed');
    assert.ok(all.jobs[0]!.failedAt instanceof Date);
    const page = await store.admin.listFailed({ queue: 'lf-a', limit: 2 });
    assert.deepEqual([page.total, page.jobs.map((j) => j.id)], [3, [a3, a2]]);
    const byHandler = await store.admin.listFailed({ queue: 'lf-a', handler: 'mail/Send', limit: 10 });
    assert.deepEqual([byHandler.total, byHandler.jobs.map((j) => j.id)], [1, [a2]]);
    const byIds = await store.admin.listFailed({ ids: [a1!, b1!, 999_999_999], limit: 10 });
    assert.deepEqual(
      byIds.jobs.map((j) => j.id).sort((x, y) => x - y),
      [a1, b1],
    );
    assert.deepEqual(await store.admin.listFailed({ ids: [], limit: 10 }), { jobs: [], total: 0 });
    const everywhere = await store.admin.listFailed({ handler: 'mail/Send', limit: 100 });
    assert.ok(everywhere.jobs.some((j) => j.id === a2) && everywhere.jobs.every((j) => j.handler === 'mail/Send'));
  });

  test('retryFailed by ids: exactly those go back, due now, attempts 0, exception kept', async () => {
    const [r1, r2, r3] = await failJobs(store, 'rf', ['Ok', 'Ok', 'Ok']);
    const [waiting] = await store.producer.enqueue({ jobs: [jobRow({ queue: 'rf' })] });
    assert.equal(await store.admin.retryFailed({ ids: [r1!, r3!, waiting!, 999_999_999] }), 2, 'only failed jobs count');
    for (const id of [r1!, r3!]) {
      const row = (await store.admin.getJob({ id }))!;
      assert.deepEqual([row.status, row.attempts, row.failedAt, row.owner], ['new', 0, null, null]);
      assert.equal(row.exception, `Error: job ${id} failed\n    at run (job.ts:3:11)`);
    }
    assert.equal((await store.admin.getJob({ id: r2! }))!.status, 'failed');
    assert.deepEqual((await store.admin.counts({ queues: ['rf'] }))[0], { queue: 'rf', waiting: 3, delayed: 0, processing: 0, failed: 1 });
    const again = await store.queue.claim({ owner: 'o', queues: ['rf'], limit: 10 });
    assert.deepEqual(
      again.map((j) => j.id).sort((x, y) => x - y),
      [r1, r3, waiting].sort((x, y) => x! - y!),
    );
    assert.ok(
      again.every((j) => j.attempts === 1),
      'the next run is attempt 1',
    );
    assert.equal(await store.admin.retryFailed({ ids: [r1!] }), 0, 'a job that is not failed is left alone');
  });

  test('retryFailed by queue and handler: every match, nothing else', async () => {
    const xs = await failJobs(store, 'rq-x', ['A', 'B', 'A', 'A']);
    const [y1] = await failJobs(store, 'rq-y', ['A']);
    assert.equal(await store.admin.retryFailed({ queue: 'rq-x', handler: 'A' }), 3);
    assert.deepEqual(await Promise.all(xs.map(async (id) => (await store.admin.getJob({ id }))!.status)), ['new', 'failed', 'new', 'new']);
    assert.equal((await store.admin.getJob({ id: y1! }))!.status, 'failed');
    assert.equal(await store.admin.retryFailed({ queue: 'rq-x' }), 1);
    assert.equal(await store.admin.retryFailed({ queue: 'rq-x' }), 0);
  });

  test('deleteFailed: by ids (forget), by queue and age (flush)', async () => {
    const [d1, d2] = await failJobs(store, 'df', ['Ok', 'Ok']);
    const [waiting] = await store.producer.enqueue({ jobs: [jobRow({ queue: 'df-waiting' })] });
    assert.equal(await store.admin.deleteFailed({ ids: [d1!, waiting!] }), 1);
    assert.equal(await store.admin.getJob({ id: d1! }), null);
    assert.equal((await store.admin.getJob({ id: d2! }))!.status, 'failed');
    assert.equal((await store.admin.getJob({ id: waiting! }))!.status, 'new', 'a job that is not failed is never deleted');
    await fx.backdate.jobs([d2!], 60_000, 'failed');
    const [fresh] = await failJobs(store, 'df', ['Ok']);
    const [other] = await failJobs(store, 'df-other', ['Ok']);
    assert.equal(await store.admin.deleteFailed({ queue: 'df', olderThanMs: 30_000 }), 1, 'only the old one');
    assert.equal(await store.admin.getJob({ id: d2! }), null);
    assert.equal((await store.admin.getJob({ id: fresh! }))!.status, 'failed');
    assert.equal(await store.admin.deleteFailed({ queue: 'df' }), 1);
    assert.equal((await store.admin.getJob({ id: other! }))!.status, 'failed', 'another queue is untouched');
    assert.deepEqual(await store.admin.counts({ queues: ['df'] }), [], 'no job left on the queue');
  });

  test('bulk retry and delete go in batches and count every row', async () => {
    const n = 1_234;
    await store.producer.enqueue({ jobs: Array.from({ length: n }, () => jobRow({ queue: 'bulk-failed' })) });
    for (let i = 0; i < n; i += 500) {
      const claimed = await store.queue.claim({ owner: 'bf', queues: ['bulk-failed'], limit: 500 });
      await store.queue.record({
        owner: 'bf',
        results: claimed.map((c) => ({ id: c.id, token: c.token, queue: 'bulk-failed', outcome: 'failed' as const, error: 'x' })),
      });
    }
    assert.equal((await store.admin.listFailed({ queue: 'bulk-failed', limit: 5 })).total, n);
    assert.equal(await store.admin.retryFailed({ queue: 'bulk-failed' }), n);
    assert.equal((await store.admin.counts({ queues: ['bulk-failed'] }))[0]!.waiting, n);
    for (;;) {
      const c = await store.queue.claim({ owner: 'bf', queues: ['bulk-failed'], limit: 1000 });
      if (c.length === 0) break;
      await store.queue.record({
        owner: 'bf',
        results: c.map((j) => ({ id: j.id, token: j.token, queue: j.queue, outcome: 'failed' as const, error: 'y' })),
      });
    }
    assert.equal(await store.admin.deleteFailed({ queue: 'bulk-failed' }), n);
    assert.deepEqual(await store.admin.counts({ queues: ['bulk-failed'] }), []);
  });

  test('a paused queue is never claimed, by name or across all queues, until resumed', async () => {
    await drain(store);
    const [p1, p2] = await store.producer.enqueue({ jobs: [jobRow({ queue: 'pz' }), jobRow({ queue: 'pz' })] });
    const [a1, a2] = await store.producer.enqueue({ jobs: [jobRow({ queue: 'pa' }), jobRow({ queue: 'pa' })] });
    assert.equal(await store.admin.setQueuePaused({ queue: 'pz', paused: true }), true);
    assert.equal(await store.admin.setQueuePaused({ queue: 'pz', paused: true }), false, 'already paused');
    const paused = await store.admin.listPausedQueues({});
    assert.deepEqual(
      paused.map((p) => p.queue),
      ['pz'],
    );
    assert.ok(Math.abs(paused[0]!.pausedAt.getTime() - Date.now()) < 5_000);
    assert.deepEqual(
      (await store.queue.claim({ owner: 'o', queues: ['pz', 'pa'], limit: 1 })).map((j) => j.id),
      [a1],
    );
    assert.deepEqual(
      (await store.queue.claim({ owner: 'o', queues: null, limit: 10 })).map((j) => j.id),
      [a2],
    );
    assert.deepEqual(await store.queue.claim({ owner: 'o', queues: ['pz'], limit: 10 }), []);
    assert.equal((await store.admin.getJob({ id: p1! }))!.status, 'new');
    assert.equal(await store.admin.setQueuePaused({ queue: 'pz', paused: false }), true);
    assert.equal(await store.admin.setQueuePaused({ queue: 'pz', paused: false }), false, 'not paused');
    assert.deepEqual(await store.admin.listPausedQueues({}), []);
    assert.deepEqual(
      (await store.queue.claim({ owner: 'o', queues: null, limit: 10 })).map((j) => j.id),
      [p1, p2],
    );
  });

  test('throughput counts completed and failed per queue, and outlives the rows', async () => {
    const before = await store.admin.throughput({ sinceMs: 3_600_000 });
    assert.equal(
      before.some((t) => t.queue === 'tp-a' || t.queue === 'tp-b'),
      false,
    );
    const ids = await store.producer.enqueue({
      jobs: [jobRow({ queue: 'tp-a' }), jobRow({ queue: 'tp-a' }), jobRow({ queue: 'tp-a' }), jobRow({ queue: 'tp-a' }), jobRow({ queue: 'tp-b' })],
    });
    const claim = claimsById(await store.queue.claim({ owner: 'tp', queues: ['tp-a', 'tp-b'], limit: 5 }));
    await store.queue.record({
      owner: 'tp',
      results: [
        { ...claim(ids[0]!), queue: 'tp-a', outcome: 'completed' },
        { ...claim(ids[1]!), queue: 'tp-a', outcome: 'failed', error: 'x' },
        { ...claim(ids[2]!), queue: 'tp-a', outcome: 'retry', error: 'x', delayMs: 60_000 },
        { ...claim(ids[4]!), queue: 'tp-b', outcome: 'completed' },
      ],
    });
    await store.queue.record({ owner: 'tp', results: [{ ...claim(ids[3]!), queue: 'tp-a', outcome: 'completed' }], keepCompleted: true });
    await store.queue.record({ owner: 'stranger', results: [{ ...claim(ids[3]!), queue: 'tp-a', outcome: 'completed' }] });
    const mine = (rows: Array<{ queue: string }>) => rows.filter((t) => t.queue.startsWith('tp-'));
    assert.deepEqual(mine(await store.admin.throughput({ sinceMs: 60_000 })), [
      { queue: 'tp-a', completed: 2, failed: 1 },
      { queue: 'tp-b', completed: 1, failed: 0 },
    ]);
    assert.deepEqual(mine(await store.admin.throughput({ sinceMs: 3_600_000 })), mine(await store.admin.throughput({ sinceMs: 60_000 })));
    assert.equal(await store.admin.getJob({ id: ids[0]! }), null, 'the completed row is gone; its count stays');
  });

  test('prune deletes completed and failed rows past their retention only, in batches', async () => {
    const ids = await store.producer.enqueue({ jobs: Array.from({ length: 5 }, () => jobRow({ queue: 'prune' })) });
    const claim = claimsById(await store.queue.claim({ owner: 'pr', queues: ['prune'], limit: 5 }));
    await store.queue.record({
      owner: 'pr',
      results: ids.slice(0, 3).map((id) => ({ ...claim(id), queue: 'prune', outcome: 'completed' as const })),
      keepCompleted: true,
    });
    await store.queue.record({
      owner: 'pr',
      results: ids.slice(3).map((id) => ({ ...claim(id), queue: 'prune', outcome: 'failed' as const, error: 'x' })),
    });
    const nothing = await store.admin.prune({ completedOlderThanMs: 60_000, failedOlderThanMs: 60_000 });
    assert.deepEqual(nothing, { completed: 0, failed: 0 }, 'nothing is that old yet');
    await fx.backdate.jobs(ids.slice(0, 3), 120_000, 'completed');
    await fx.backdate.jobs(ids.slice(3), 120_000, 'failed');
    const [young] = await store.producer.enqueue({ jobs: [jobRow({ queue: 'prune' })] });
    const [youngClaim] = await store.queue.claim({ owner: 'pr', queues: ['prune'], limit: 1 });
    await store.queue.record({ owner: 'pr', results: [{ ...youngClaim!, queue: 'prune', outcome: 'completed' }], keepCompleted: true });
    const first = await store.admin.prune({ completedOlderThanMs: 60_000, failedOlderThanMs: null, batchSize: 2 });
    assert.ok(first.completed >= 3, `completed pruned: ${first.completed}`);
    assert.equal(first.failed, 0, 'failed rows are kept without a failed retention');
    for (const id of ids.slice(0, 3)) assert.equal(await store.admin.getJob({ id }), null);
    assert.equal((await store.admin.getJob({ id: young! }))!.status, 'completed', 'a row inside its retention stays');
    for (const id of ids.slice(3)) assert.equal((await store.admin.getJob({ id }))!.status, 'failed');
    const second = await store.admin.prune({ completedOlderThanMs: null, failedOlderThanMs: 60_000, batchSize: 1 });
    assert.ok(second.failed >= 2, `failed pruned: ${second.failed}`);
    for (const id of ids.slice(3)) assert.equal(await store.admin.getJob({ id }), null);
    assert.equal((await store.admin.getJob({ id: young! }))!.status, 'completed');
    assert.ok(
      (await store.admin.throughput({ sinceMs: 60_000 })).some((t) => t.queue === 'prune'),
      'counters outlive pruning',
    );
  });
});
