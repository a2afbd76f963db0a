// The producer role on every store: what enqueue writes is what a claim and getJob read back.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import type { JobStore } from '../src/stores/store.ts';
import { describeEachStore } from './helpers/conformance.ts';
import { jobRow } from './helpers/job-rows.ts';

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
});
