// The producer role on every store: what enqueue writes is what a claim and getJob read back.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { useStore } from '../src/dispatcher.ts';
import { Job } from '../src/job.ts';
import type { JobId, JobStore } from '../src/stores/store.ts';
import { describeEachStore, reopen } from './helpers/conformance.ts';
import { jobRow } from './helpers/job-rows.ts';

class Coalesced extends Job<{ n: number }> {
  override queue = 'coalesced';
  async run() {}
}

/** Writes the store's producer has made so far (every store counts them). */
function writes(store: JobStore): number {
  const stats = store.producer.enqueueStats;
  assert.ok(stats, `the ${store.kind} producer counts its writes`);
  return stats.writes;
}

describeEachStore('producer', (fixture) => {
  let store: JobStore;
  before(() => {
    store = fixture().store;
  });

  test('bulk enqueue of 10,000 jobs returns 10,000 distinct ascending ids', async () => {
    const ids = await store.producer.enqueue({ jobs: Array.from({ length: 10_000 }, (_, i) => jobRow({ queue: 'bulk', payload: JSON.stringify({ i }) })) });
    assert.equal(ids.length, 10_000);
    for (let i = 1; i < ids.length; i++) assert.ok(ids[i]! > ids[i - 1]!, 'ascending');
    assert.equal((await store.admin.counts({ queues: ['bulk'] }))[0]!.waiting, 10_000);
    const spot = (await store.admin.getJob({ id: ids[4321]! }))!;
    assert.equal(spot.payload, '{"i":4321}', 'the id returned is the row holding that payload');
  });

  test('payloads with unicode and nested data round-trip byte for byte', async () => {
    const payload = JSON.stringify({
      emoji: '📧✔✖ 👩‍👩‍👧',
      cjk: '送信する 이메일',
      rtl: 'مرحبا',
      combining: 'e\u0301',
      control: 'tab\tnewline\nnull\u0000',
      nested: { a: [1, 2.5, -3e-7, { b: null, c: [true, false] }], deep: { deeper: { deepest: 'x'.repeat(1000) } } },
    });
    const [id] = await store.producer.enqueue({ jobs: [jobRow({ queue: 'utf', payload })] });
    const [c] = await store.queue.claim({ owner: 'o', queues: ['utf'], limit: 1 });
    assert.equal(c!.id, id);
    assert.equal(Buffer.compare(Buffer.from(c!.payload), Buffer.from(payload)), 0);
  });

  test('a 1 MB payload is stored whole; maxPayloadBytes states the limit', async () => {
    const max = await store.producer.maxPayloadBytes();
    assert.ok(max >= 1_000_000, `limit ${max} allows 1 MB`);
    const payload = JSON.stringify({ blob: 'é'.repeat(500_000) });
    const [id] = await store.producer.enqueue({ jobs: [jobRow({ queue: 'big', payload })] });
    assert.equal((await store.admin.getJob({ id: id! }))!.payload, payload);
  });

  test('limits per job survive the round trip', async () => {
    const [id] = await store.producer.enqueue({
      jobs: [jobRow({ queue: 'lim', maxAttempts: 7, retryAfterMs: 90_000, timeoutMs: 1234, handler: 'mail/SendMail' })],
    });
    const [c] = await store.queue.claim({ owner: 'o', queues: ['lim'], limit: 1 });
    assert.deepEqual(
      { id: c!.id, handler: c!.handler, queue: c!.queue, maxAttempts: c!.maxAttempts, retryAfterMs: c!.retryAfterMs, timeoutMs: c!.timeoutMs },
      { id, handler: 'mail/SendMail', queue: 'lim', maxAttempts: 7, retryAfterMs: 90_000, timeoutMs: 1234 },
    );
  });

  test('200 concurrent dispatches, one invalid: 199 distinct ids and rows in far fewer writes, the invalid one refused alone', async () => {
    useStore(store);
    const before = writes(store);
    const settled = await Promise.allSettled(
      Array.from({ length: 200 }, (_, n) => new Coalesced().dispatch(n === 77 ? ({ at: new Date() } as unknown as { n: number }) : { n }) as Promise<JobId>),
    );
    const rejected = settled.flatMap((s, n) => (s.status === 'rejected' ? [{ n, error: s.reason as Error }] : []));
    assert.deepEqual(
      rejected.map((r) => r.n),
      [77],
    );
    assert.match(rejected[0]!.error.message, /payload\.at is a Date/);
    const ids = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
    assert.equal(new Set(ids).size, 199, 'ids distinct');
    assert.equal((await store.admin.counts({ queues: ['coalesced'] }))[0]!.waiting, 199);
    for (const n of [0, 76, 78, 199]) {
      const id = ids[n < 77 ? n : n - 1]!;
      assert.equal((await store.admin.getJob({ id }))!.payload, JSON.stringify({ n }), 'each caller got the id of its own job');
    }
    const used = writes(store) - before;
    assert.ok(used <= 20, `199 dispatches took ${used} writes`);
  });

  test('concurrent enqueues gather, each keeping its jobs together, in order; an oversized payload is refused alone', async () => {
    const max = await store.producer.maxPayloadBytes();
    // A payload just over the limit (SQLite's 256 MB is left out: too much memory for a test).
    const oversized = max <= 64 * 1024 * 1024 ? 17 : -1;
    const before = writes(store);
    const settled = await Promise.allSettled(
      Array.from({ length: 60 }, (_, caller) =>
        store.producer.enqueue({
          jobs:
            caller === oversized
              ? [jobRow({ queue: 'groups', payload: { caller } }), jobRow({ queue: 'groups', payload: `"${'x'.repeat(max)}"` })]
              : Array.from({ length: 1 + (caller % 5) }, (_, i) => jobRow({ queue: 'groups', payload: { caller, i } })),
        }),
      ),
    );
    const all: JobId[] = [];
    for (const [caller, s] of settled.entries()) {
      if (caller === oversized) {
        assert.equal(s.status, 'rejected');
        assert.equal((s as PromiseRejectedResult).reason.name, 'RangeError');
        continue;
      }
      assert.equal(s.status, 'fulfilled', `caller ${caller}: ${(s as PromiseRejectedResult).reason}`);
      const ids = (s as PromiseFulfilledResult<JobId[]>).value;
      assert.equal(ids.length, 1 + (caller % 5));
      for (const [i, id] of ids.entries()) {
        assert.equal((await store.admin.getJob({ id }))!.payload, JSON.stringify({ caller, i }), `caller ${caller}, job ${i}`);
        if (i > 0) assert.ok(id > ids[i - 1]!, 'ids in order');
      }
      all.push(...ids);
    }
    assert.equal(new Set(all).size, all.length);
    const stored = (await store.admin.counts({ queues: ['groups'] }))[0]!.waiting;
    assert.equal(stored, all.length, 'the oversized caller stored nothing, not even its small job');
    assert.ok(writes(store) - before < 20, `${writes(store) - before} writes`);
  });

  test('a lone enqueue goes at once, each in a write of its own', async () => {
    const before = writes(store);
    for (let i = 0; i < 5; i++) await store.producer.enqueue({ jobs: [jobRow({ queue: 'lone' })] });
    assert.equal(writes(store) - before, 5);
  });

  test('a store closed while enqueues are gathered: every caller settles, and each stored all its jobs or none', async () => {
    const other = await reopen(fixture());
    const settled = Promise.allSettled(
      Array.from({ length: 100 }, (_, caller) => other.producer.enqueue({ jobs: [0, 1, 2].map((i) => jobRow({ queue: 'closing', payload: { caller, i } })) })),
    );
    await new Promise((r) => setImmediate(r)); // the first write has gone, the rest gather
    await other.close();
    const results = await settled;
    const failed = results.filter((r) => r.status === 'rejected').length;
    assert.ok(failed > 0, 'callers gathered behind the first write fail once the store is closed');
    const stored: JobId[] = results.flatMap((r) => (r.status === 'fulfilled' ? r.value : []));
    assert.equal((await store.admin.counts({ queues: ['closing'] }))[0]?.waiting ?? 0, stored.length, 'failed callers stored nothing');
    assert.equal(new Set(stored).size, stored.length);
  });
});
