// MySQL keeps a lock row per concurrency key (<table>_limits); the pruner deletes the rows of
// keys nothing waits on or runs under any more, and a key used again afterwards is limited as
// before (its row made again by the next claim).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { openStore } from '../src/stores/open-store.ts';
import type { JobStore } from '../src/stores/store.ts';
import { claimsById, jobRow } from './helpers/job-rows.ts';
import { createMysqlDatabase, type TestDatabase } from './helpers/mysql.ts';

describe('MySQL: lock rows of idle concurrency keys are pruned', () => {
  let db: TestDatabase;
  let store: JobStore;
  before(async () => {
    db = await createMysqlDatabase('prune_limits');
    store = await openStore(db.url);
    await store.admin.migrate({});
  });
  after(async () => {
    await store.close();
    await db.drop();
  });

  const limitKeys = async () => (await db.query<Array<{ k: string }>>('SELECT concurrency_key AS k FROM jobs_limits ORDER BY k')).map((r) => r.k);
  const keyed = (key: string, n = 1) => Array.from({ length: n }, (_, i) => jobRow({ queue: 'lim', concurrency: { key, limit: 1 }, payload: { key, i } }));
  const prune = (batchSize?: number) =>
    store.admin.prune({ completedOlderThanMs: null, failedOlderThanMs: null, ...(batchSize === undefined ? {} : { batchSize }) });

  test('keys whose jobs all ended lose their row; a key with a job running or blocked keeps it', async () => {
    const ids = await store.producer.enqueue({ jobs: [...keyed('done-1'), ...keyed('done-2'), ...keyed('failed-1'), ...keyed('busy', 2)] });
    const claimed = await store.queue.claim({ owner: 'o', queues: ['lim'], limit: 10 });
    assert.equal(claimed.length, 4, 'one job of each key; the second of busy is blocked');
    const claim = claimsById(claimed);
    await store.queue.record({
      owner: 'o',
      results: [
        { ...claim(ids[0]!), queue: 'lim', outcome: 'completed' },
        { ...claim(ids[1]!), queue: 'lim', outcome: 'completed' },
        { ...claim(ids[2]!), queue: 'lim', outcome: 'failed', error: 'no' },
      ],
    });
    assert.deepEqual(await limitKeys(), ['busy', 'done-1', 'done-2', 'failed-1']);
    await prune();
    assert.deepEqual(await limitKeys(), ['busy']);

    // done-1 used again: limited as before.
    await store.producer.enqueue({ jobs: keyed('done-1', 2) });
    const again = await store.queue.claim({ owner: 'o', queues: ['lim'], limit: 10 });
    assert.deepEqual(
      again.map((c) => JSON.parse(c.payload).key),
      ['done-1'],
      'one of the two done-1 jobs runs, the other is blocked; busy stays blocked behind its running job',
    );
    assert.deepEqual(await limitKeys(), ['busy', 'done-1']);
    await prune();
    assert.deepEqual(await limitKeys(), ['busy', 'done-1'], 'rows of keys with jobs running are kept');
  });

  test('many idle keys go in one prune run, a batch of keys per statement', async () => {
    await db.query('DELETE FROM jobs');
    await db.query('DELETE FROM jobs_limits');
    const ids = await store.producer.enqueue({ jobs: Array.from({ length: 30 }, (_, i) => keyed(`idle-${String(i).padStart(2, '0')}`)[0]!) });
    const claimed = await store.queue.claim({ owner: 'o', queues: ['lim'], limit: 30 });
    const claim = claimsById(claimed);
    await store.queue.record({ owner: 'o', results: ids.map((id) => ({ ...claim(id), queue: 'lim', outcome: 'completed' as const })) });
    // One key keeps a waiting job, amid the others (in key order).
    await store.producer.enqueue({ jobs: keyed('idle-13') });
    assert.equal((await limitKeys()).length, 30);
    await prune(7);
    assert.deepEqual(await limitKeys(), ['idle-13']);
  });
});
