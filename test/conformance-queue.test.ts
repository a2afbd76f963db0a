// The queue role on every store: claim order and exclusivity, delays, results, giving jobs back.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import type { JobStore } from '../src/stores/store.ts';
import { describeEachStore, drain, reopen } from './helpers/conformance.ts';
import type { StoreFixture } from './helpers/stores.ts';
import { jobRow } from './helpers/job-rows.ts';

describeEachStore('queue', (fixture) => {
  let fx: StoreFixture;
  let store: JobStore;
  before(() => {
    fx = fixture();
    store = fixture().store;
  });

  test('enqueue, claim and complete: the row is gone, or kept as completed when asked', async () => {
    const [a, b] = await store.producer.enqueue({ jobs: [jobRow({ queue: 'rt', payload: '{"n":1}' }), jobRow({ queue: 'rt', payload: '{"n":2}' })] });
    assert.ok(a! < b!, 'ids ascend in dispatch order');
    const claimed = await store.queue.claim({ owner: 'o1', queues: ['rt'], limit: 10 });
    assert.deepEqual(
      claimed.map((j) => j.id),
      [a, b],
    );
    assert.equal(claimed[0]!.payload, '{"n":1}');
    assert.equal(claimed[0]!.attempts, 1, 'the claim counts the attempt');
    assert.equal((await store.admin.getJob({ id: a! }))!.status, 'processing');
    assert.equal((await store.admin.getJob({ id: a! }))!.owner, 'o1');
    await store.queue.record({ owner: 'o1', results: [{ id: a!, token: claimed[0]!.token, queue: 'rt', outcome: 'completed' }] });
    await store.queue.record({ owner: 'o1', results: [{ id: b!, token: claimed[1]!.token, queue: 'rt', outcome: 'completed' }], keepCompleted: true });
    assert.equal(await store.admin.getJob({ id: a! }), null);
    assert.equal((await store.admin.getJob({ id: b! }))!.status, 'completed');
    assert.deepEqual(await store.queue.claim({ owner: 'o1', queues: ['rt'], limit: 10 }), []);
  });

  test('a delayed job is not claimed before it is due, and is claimed once due', async () => {
    const [id] = await store.producer.enqueue({ jobs: [jobRow({ queue: 'delay', delayMs: 60_000 })] });
    assert.deepEqual(await store.queue.claim({ owner: 'o', queues: ['delay'], limit: 5 }), []);
    assert.deepEqual((await store.admin.counts({ queues: ['delay'] }))[0], { queue: 'delay', waiting: 0, delayed: 1, processing: 0, failed: 0 });
    await fx.backdate.jobs([id!], 60_000, 'scheduled');
    const claimed = await store.queue.claim({ owner: 'o', queues: ['delay'], limit: 5 });
    assert.deepEqual(
      claimed.map((j) => j.id),
      [id],
    );
  });

  test('queues are claimed in strict order, and by due time then id within a queue', async () => {
    const [b1] = await store.producer.enqueue({ jobs: [jobRow({ queue: 'qb' })] });
    const [a1, a2] = await store.producer.enqueue({ jobs: [jobRow({ queue: 'qa' }), jobRow({ queue: 'qa' })] });
    const [b2] = await store.producer.enqueue({ jobs: [jobRow({ queue: 'qb' })] });
    const first = await store.queue.claim({ owner: 'o', queues: ['qa', 'qb'], limit: 3 });
    assert.deepEqual(
      first.map((j) => j.id),
      [a1, a2, b1],
    );
    const second = await store.queue.claim({ owner: 'o', queues: ['qa', 'qb'], limit: 3 });
    assert.deepEqual(
      second.map((j) => j.id),
      [b2],
    );
  });

  test('null queues claims from every queue, oldest due first', async () => {
    await drain(store);
    const ids = await store.producer.enqueue({ jobs: [jobRow({ queue: 'x1' }), jobRow({ queue: 'x2' }), jobRow({ queue: 'x1' })] });
    const claimed = await store.queue.claim({ owner: 'o', queues: null, limit: 10 });
    assert.deepEqual(
      claimed.map((j) => j.id),
      ids,
    );
  });

  test('retry puts the job back with the error kept, due after the retry delay', async () => {
    const [id] = await store.producer.enqueue({ jobs: [jobRow({ queue: 'retry', maxAttempts: 3, retryAfterMs: 60_000 })] });
    const [c] = await store.queue.claim({ owner: 'o', queues: ['retry'], limit: 1 });
    assert.equal(c!.maxAttempts, 3);
    assert.equal(c!.retryAfterMs, 60_000);
    await store.queue.record({
      owner: 'o',
      results: [{ id: id!, token: c!.token, queue: 'retry', outcome: 'retry', error: 'Error: first\n    at x', delayMs: 60_000 }],
    });
    const row = (await store.admin.getJob({ id: id! }))!;
    assert.equal(row.status, 'new');
    assert.equal(row.attempts, 1);
    assert.equal(row.exception, 'Error: first\n    at x');
    assert.equal(row.owner, null);
    assert.deepEqual(await store.queue.claim({ owner: 'o', queues: ['retry'], limit: 1 }), [], 'not due yet');
    await fx.backdate.jobs([id!], 60_000, 'scheduled');
    const [again] = await store.queue.claim({ owner: 'o2', queues: ['retry'], limit: 1 });
    assert.equal(again!.id, id);
    assert.equal(again!.attempts, 2);
  });

  test('final failure keeps the exception and failed_at', async () => {
    const [id] = await store.producer.enqueue({ jobs: [jobRow({ queue: 'fail' })] });
    const [c] = await store.queue.claim({ owner: 'o', queues: ['fail'], limit: 1 });
    const before = Date.now();
    await store.queue.record({ owner: 'o', results: [{ id: id!, token: c!.token, queue: 'fail', outcome: 'failed', error: 'Error: final\n    at y' }] });
    const row = (await store.admin.getJob({ id: id! }))!;
    assert.equal(row.status, 'failed');
    assert.equal(row.exception, 'Error: final\n    at y');
    assert.ok(row.failedAt instanceof Date);
    assert.ok(Math.abs(row.failedAt.getTime() - before) < 5_000, `failed_at ${row.failedAt.toISOString()} is now (clock and time zone agree)`);
    assert.deepEqual((await store.admin.counts({ queues: ['fail'] }))[0], { queue: 'fail', waiting: 0, delayed: 0, processing: 0, failed: 1 });
  });

  test('results for jobs another owner holds are ignored; release gives back without charging the attempt', async () => {
    const [id] = await store.producer.enqueue({ jobs: [jobRow({ queue: 'own' })] });
    const [c] = await store.queue.claim({ owner: 'mine', queues: ['own'], limit: 1 });
    const claim = { id: id!, token: c!.token };
    const report = await store.queue.record({ owner: 'stranger', results: [{ ...claim, queue: 'own', outcome: 'completed' }] });
    assert.deepEqual(report.stale, [claim], 'reported as stale');
    assert.equal((await store.admin.getJob({ id: id! }))!.status, 'processing');
    assert.equal(await store.queue.release({ owner: 'stranger', jobs: [claim] }), 0);
    assert.equal(await store.queue.release({ owner: 'mine', jobs: [claim] }), 1);
    const row = (await store.admin.getJob({ id: id! }))!;
    assert.equal(row.status, 'new');
    assert.equal(row.attempts, 0);
    assert.equal(row.owner, null);
  });

  test('a claim is fenced by its token: the result or release of an older claim of the same job never applies to a newer one', async () => {
    const [id] = await store.producer.enqueue({ jobs: [jobRow({ queue: 'fence', maxAttempts: 5 })] });
    const [first] = await store.queue.claim({ owner: 'rt', queues: ['fence'], limit: 1 });
    // The job goes back (as recovery would give back a runtime presumed dead) and the same
    // owner claims it again: only the owner string is the same.
    assert.equal(await store.queue.release({ owner: 'rt', jobs: [first!] }), 1);
    const [second] = await store.queue.claim({ owner: 'rt', queues: ['fence'], limit: 1 });
    assert.equal(second!.id, id);
    assert.notEqual(second!.token, first!.token, 'each claim gets its own token');
    const old = { id: id!, token: first!.token };
    const stale = await store.queue.record({ owner: 'rt', results: [{ ...old, queue: 'fence', outcome: 'failed', error: 'old run' }] });
    assert.deepEqual(stale.stale, [old]);
    assert.equal(await store.queue.release({ owner: 'rt', jobs: [old] }), 0, 'an old release leaves the new claim alone');
    const row = (await store.admin.getJob({ id: id! }))!;
    assert.deepEqual([row.status, row.owner, row.exception], ['processing', 'rt', null], 'the old result did not land');
    // Both results in one batch: only the current claim's applies.
    const mixed = await store.queue.record({
      owner: 'rt',
      results: [
        { ...old, queue: 'fence', outcome: 'retry', error: 'old', delayMs: 0 },
        { id: id!, token: second!.token, queue: 'fence', outcome: 'completed' },
      ],
    });
    assert.deepEqual(mixed.stale, [old]);
    assert.equal(await store.admin.getJob({ id: id! }), null, 'the current claim completed');
  });

  test('releaseUnheld gives back what an owner holds beyond the jobs it knows of', async () => {
    const ids = await store.producer.enqueue({ jobs: [jobRow({ queue: 'unheld' }), jobRow({ queue: 'unheld' }), jobRow({ queue: 'unheld' })] });
    const claimed = await store.queue.claim({ owner: 'lost-reply', queues: ['unheld'], limit: 3 });
    assert.equal(await store.queue.releaseUnheld({ owner: 'lost-reply', held: [claimed.find((c) => c.id === ids[0])!] }), 2);
    assert.equal((await store.admin.getJob({ id: ids[0]! }))!.status, 'processing', 'the held job stays');
    for (const id of ids.slice(1)) {
      const row = (await store.admin.getJob({ id }))!;
      assert.deepEqual([row.status, row.attempts, row.owner], ['new', 0, null]);
    }
    assert.equal(await store.queue.releaseUnheld({ owner: 'lost-reply', held: [] }), 1);
  });

  test('4 claimers racing on 2,000 jobs claim each id exactly once', async () => {
    await drain(store);
    const ids = await store.producer.enqueue({ jobs: Array.from({ length: 2000 }, (_, i) => jobRow({ queue: 'race', payload: JSON.stringify({ i }) })) });
    // Separate store instances: separate connections (MySQL) or database handles (SQLite).
    const claimers = await Promise.all([1, 2, 3, 4].map(() => reopen(fx)));
    try {
      const got = await Promise.all(
        claimers.map(async (s, n) => {
          const mine: number[] = [];
          for (;;) {
            const batch = await s.queue.claim({ owner: `c${n}`, queues: ['race'], limit: 37 });
            if (batch.length === 0) return mine;
            mine.push(...batch.map((j) => j.id));
          }
        }),
      );
      const all = got.flat();
      assert.equal(all.length, 2000, 'every job claimed');
      assert.equal(new Set(all).size, 2000, 'no job claimed twice');
      assert.deepEqual(
        [...all].sort((x, y) => x - y),
        ids,
      );
    } finally {
      await Promise.all(claimers.map((s) => s.close()));
    }
  });

  test('claimByIds takes the named jobs that are due, new, in the queues and not paused; the attempt is charged and fenced', async () => {
    const [a, later] = await store.producer.enqueue({ jobs: [jobRow({ queue: 'ids1' }), jobRow({ queue: 'ids1', delayMs: 60_000 })] });
    const [other] = await store.producer.enqueue({ jobs: [jobRow({ queue: 'ids2' })] });
    const [taken] = await store.producer.enqueue({ jobs: [jobRow({ queue: 'ids1' })] });
    await store.queue.claimByIds({ owner: 'o2', queues: null, ids: [taken!] });
    const got = await store.queue.claimByIds({ owner: 'o', queues: ['ids1'], ids: [later!, other!, taken!, a!, 999_999] });
    assert.deepEqual(
      got.map((j) => j.id),
      [a],
      'not the delayed one, not another queue, not one claimed already, not a missing id',
    );
    assert.equal(got[0]!.attempts, 1, 'the claim counts the attempt');
    assert.equal((await store.admin.getJob({ id: a! }))!.owner, 'o');
    assert.deepEqual(await store.queue.record({ owner: 'o', results: [{ id: a!, token: got[0]!.token, queue: 'ids1', outcome: 'completed' }] }), { stale: [] });
    assert.deepEqual(
      (await store.queue.claimByIds({ owner: 'o', queues: null, ids: [other!] })).map((j) => j.id),
      [other],
      'null queues: any queue',
    );
    await store.admin.setQueuePaused({ queue: 'ids3', paused: true });
    const [paused] = await store.producer.enqueue({ jobs: [jobRow({ queue: 'ids3' })] });
    assert.deepEqual(await store.queue.claimByIds({ owner: 'o', queues: null, ids: [paused!] }), [], 'a paused queue is not claimed');
    await store.admin.setQueuePaused({ queue: 'ids3', paused: false });
    const [first, second] = await store.producer.enqueue({ jobs: [jobRow({ queue: 'ids3' }), jobRow({ queue: 'ids3' })] });
    assert.deepEqual(
      (await store.queue.claimByIds({ owner: 'o', queues: ['ids3'], ids: [second!, paused!, first!] })).map((j) => j.id),
      [paused, first, second],
      'by due time then id',
    );
  });

  test('claimByIds racing claim on 1,000 jobs: each id claimed exactly once', async () => {
    await drain(store);
    const ids = await store.producer.enqueue({ jobs: Array.from({ length: 1000 }, () => jobRow({ queue: 'race-ids' })) });
    const claimers = await Promise.all([1, 2, 3, 4].map(() => reopen(fx)));
    try {
      const got = await Promise.all(
        claimers.map(async (s, n) => {
          const mine: number[] = [];
          // Two claim as usual; two name ids, from opposite ends, 25 at a time.
          const named = n % 2 === 0 ? [...ids] : [...ids].reverse();
          for (let i = 0; i < 200; i++) {
            const batch =
              n < 2
                ? await s.queue.claim({ owner: `c${n}`, queues: ['race-ids'], limit: 25 })
                : await s.queue.claimByIds({ owner: `c${n}`, queues: ['race-ids'], ids: named.splice(0, 25) });
            mine.push(...batch.map((j) => j.id));
            if (n < 2 ? batch.length === 0 : named.length === 0) return mine;
          }
          return mine;
        }),
      );
      const all = got.flat();
      assert.equal(new Set(all).size, all.length, 'no job claimed twice');
      assert.equal(all.length, 1000, 'every job claimed');
    } finally {
      await Promise.all(claimers.map((s) => s.close()));
    }
  });

  test('a claim returns when the job was due', async () => {
    const [id] = await store.producer.enqueue({ jobs: [jobRow({ queue: 'due-at' })] });
    const [c] = await store.queue.claim({ owner: 'o', queues: ['due-at'], limit: 1 });
    assert.equal(c!.id, id);
    assert.equal(c!.scheduledAtMs, (await store.admin.getJob({ id: id! }))!.scheduledAt.getTime());
    assert.ok(Math.abs(c!.scheduledAtMs - Date.now()) < 5_000, 'by a clock that agrees with ours');
  });
});
