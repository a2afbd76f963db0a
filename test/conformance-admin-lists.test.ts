// The admin role's lists for the dashboard, on every store: a queue's jobs by state, keyset
// paginated, searched by handler and id; throughput minute by minute. (Beside
// conformance-admin.test.ts, which would pass 300 lines with these.)
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import type { JobId, JobListSelection, JobStore } from '../src/stores/store.ts';
import { describeEachStore } from './helpers/conformance.ts';
import { claimsById, completeJobs, failJobs, jobRow } from './helpers/job-rows.ts';
import type { StoreFixture } from './helpers/stores.ts';

/** Every page of a selection, following `next`: the ids of each page. */
async function allPages(store: JobStore, sel: Omit<JobListSelection, 'after'>): Promise<JobId[][]> {
  const pages: JobId[][] = [];
  let after: string | null = null;
  do {
    const page = await store.admin.listJobs({ ...sel, after });
    pages.push(page.jobs.map((j) => j.id));
    after = page.next;
    assert.ok(pages.length < 50, 'pagination ends');
  } while (after !== null);
  return pages;
}

describeEachStore('admin-lists', (fixture) => {
  let fx: StoreFixture;
  let store: JobStore;
  // Waiting in claim order: b (priority -5), a, d (0), c (5), late (7: due, no claim moved it yet), y (10: blocked).
  const ids: Record<string, JobId | undefined> = {};
  before(async () => {
    fx = fixture();
    store = fx.store;
    const conc = { key: 'lj-k', limit: 1 };
    [ids.x, ids.y] = await store.producer.enqueue({
      jobs: [jobRow({ queue: 'lj', priority: 10, concurrency: conc }), jobRow({ queue: 'lj', priority: 10, concurrency: conc })],
    });
    const taken = await store.queue.claim({ owner: 'lj', queues: ['lj'], limit: 2 });
    assert.deepEqual(
      taken.map((j) => j.id),
      [ids.x],
      'y is blocked behind x',
    );
    [ids.a, ids.b, ids.c, ids.d, ids.late, ids.delayed] = await store.producer.enqueue({
      jobs: [
        jobRow({ queue: 'lj', handler: 'mail/Send' }),
        jobRow({ queue: 'lj', priority: -5 }),
        jobRow({ queue: 'lj', handler: 'mail/Send', priority: 5 }),
        jobRow({ queue: 'lj' }),
        jobRow({ queue: 'lj', priority: 7, delayMs: 3_600_000 }),
        jobRow({ queue: 'lj', delayMs: 3_600_000 }),
      ],
    });
    await fx.backdate.jobs([ids.late!], 7_200_000, 'scheduled');
  });

  test('listJobs: waiting jobs in claim order, blocked ones included, page by page', async () => {
    const pages = await allPages(store, { queue: 'lj', state: 'waiting', limit: 2 });
    const { a, b, c, d, late, y } = ids;
    assert.deepEqual(pages, [
      [b, a],
      [d, c],
      [late, y],
    ]);
    const first = await store.admin.listJobs({ queue: 'lj', state: 'waiting', limit: 10 });
    assert.equal(first.next, null);
    const blocked = first.jobs.find((j) => j.id === y)!;
    assert.deepEqual([blocked.status, blocked.priority, blocked.concurrencyKey], ['blocked', 10, 'lj-k']);
    assert.equal(first.jobs.find((j) => j.id === b)!.priority, -5);
  });

  test('listJobs: delayed, processing, failed and kept completed jobs of their queue only', async () => {
    const one = async (queue: string, state: JobListSelection['state']) => (await allPages(store, { queue, state, limit: 5 })).flat();
    assert.deepEqual(await one('lj', 'delayed'), [ids.delayed]);
    assert.deepEqual(await one('lj', 'processing'), [ids.x]);
    assert.deepEqual(await one('lj', 'failed'), []);
    const failed = await failJobs(store, 'lj-done', ['Ok', 'Ok', 'Ok']);
    const done = await completeJobs(store, 'lj-done', 2, true);
    assert.deepEqual(await one('lj-done', 'failed'), failed);
    assert.deepEqual(await one('lj-done', 'completed'), done);
    assert.deepEqual(await one('lj-none', 'waiting'), []);
    const [f] = (await store.admin.listJobs({ queue: 'lj-done', state: 'failed', limit: 1 })).jobs;
    assert.equal(f!.exception, `Error: job ${failed[0]} failed\n    at run (job.ts:3:11)`);
  });

  test('listJobs: search by handler (pages of matches) and by id', async () => {
    assert.deepEqual(await allPages(store, { queue: 'lj', state: 'waiting', handler: 'mail/Send', limit: 1 }), [[ids.a], [ids.c]]);
    assert.deepEqual(await allPages(store, { queue: 'lj', state: 'waiting', handler: 'Nobody', limit: 5 }), [[]]);
    const byId = await store.admin.listJobs({ queue: 'lj', state: 'waiting', id: ids.d!, limit: 5 });
    assert.deepEqual([byId.jobs.map((j) => j.id), byId.next], [[ids.d], null]);
    assert.deepEqual((await store.admin.listJobs({ queue: 'lj', state: 'waiting', id: ids.x!, limit: 5 })).jobs, [], 'x is processing');
    assert.deepEqual(
      (await store.admin.listJobs({ queue: 'lj', state: 'processing', id: ids.x!, limit: 5 })).jobs.map((j) => j.id),
      [ids.x],
    );
    assert.deepEqual((await store.admin.listJobs({ queue: 'other', state: 'processing', id: ids.x!, limit: 5 })).jobs, [], 'another queue');
  });

  test('listJobs: a malformed cursor or page size is refused', async () => {
    for (const bad of [{ after: 'nope' }, { after: '1_2' }, { limit: 0 }, { limit: 501 }]) {
      await assert.rejects(store.admin.listJobs({ queue: 'lj', state: 'waiting', limit: 5, ...bad }), { name: 'InvalidInputError' });
    }
  });

  test('throughputByMinute: the counters minute by minute, over all queues or one', async () => {
    const n = await store.producer.enqueue({ jobs: [jobRow({ queue: 'tpm-a' }), jobRow({ queue: 'tpm-a' }), jobRow({ queue: 'tpm-b' })] });
    const claim = claimsById(await store.queue.claim({ owner: 'tpm', queues: ['tpm-a', 'tpm-b'], limit: 3 }));
    await store.queue.record({
      owner: 'tpm',
      results: [
        { ...claim(n[0]!), queue: 'tpm-a', outcome: 'completed' },
        { ...claim(n[1]!), queue: 'tpm-a', outcome: 'failed', error: 'x' },
        { ...claim(n[2]!), queue: 'tpm-b', outcome: 'completed' },
      ],
    });
    const a = await store.admin.throughputByMinute({ sinceMs: 3_600_000, queue: 'tpm-a' });
    assert.equal(a.length, 1);
    assert.deepEqual([a[0]!.completed, a[0]!.failed], [1, 1]);
    assert.equal(a[0]!.minuteMs % 60_000, 0);
    assert.ok(Math.abs(a[0]!.minuteMs - Date.now()) < 120_000);
    const all = await store.admin.throughputByMinute({ sinceMs: 48 * 3_600_000 });
    const sum = all.reduce((s, m) => s + m.completed, 0);
    assert.ok(sum >= 2, 'both queues counted');
    assert.ok(
      all.every((m, i) => i === 0 || m.minuteMs > all[i - 1]!.minuteMs),
      'oldest first',
    );
    assert.deepEqual(await store.admin.throughputByMinute({ sinceMs: 3_600_000, queue: 'tpm-none' }), []);
  });
});
