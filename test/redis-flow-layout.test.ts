// What only the Redis store's flow-control layout has (src/stores/redis/keys.ts): a prefix the
// previous layout wrote stays claimable, due jobs move into the ready sets a bounded batch per
// claim, unique locks and slots are freed only by their own job, keys are opaque strings.
// The shared cases are in test/conformance-flow.test.ts.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { openStore } from '../src/stores/open-store.ts';
import type { JobStore } from '../src/stores/store.ts';
import { createRedisPrefix, type TestRedis } from './helpers/redis.ts';
import { claimsById, jobRow } from './helpers/job-rows.ts';

const member = (id: number) => String(id).padStart(16, '0');

describe('Redis flow layout', () => {
  let redis: TestRedis;
  let store: JobStore;
  before(async () => {
    redis = await createRedisPrefix('redis_flow_layout');
    store = await openStore(redis.url);
  });
  after(async () => {
    await store?.close();
    await redis?.drop();
  });

  /** Jobs as the previous layout's enqueue script wrote them: every waiting job in due and due:<queue>. */
  async function writeOldLayout(queue: string, dues: number[]): Promise<number[]> {
    const p = redis.prefix;
    const [s, us] = await redis.client.time();
    const now = Number(s) * 1000 + Math.floor(Number(us) / 1000);
    const first = (await redis.client.incrby(`${p}id`, dues.length)) - dues.length + 1;
    const multi = redis.client.multi();
    dues.forEach((delay, k) => {
      const id = first + k;
      multi.hset(`${p}job:${id}`, {
        handler: 'Old',
        queue,
        payload: '{}',
        status: 'new',
        attempts: 0,
        max_attempts: 1,
        retry_after_ms: 0,
        created_at: now,
        scheduled_at: now + delay,
      });
      multi.zadd(`${p}due:${queue}`, now + delay, member(id));
      multi.zadd(`${p}due`, now + delay, member(id));
    });
    multi.sadd(`${p}queues`, queue);
    await multi.exec();
    return dues.map((_, k) => first + k);
  }

  test('a prefix written by the previous layout is claimable as it is, delayed jobs once due', async () => {
    const [a, b, later] = await writeOldLayout('old', [-2000, -1000, 3_600_000]);
    assert.deepEqual((await store.admin.counts({ queues: ['old'] }))[0], { queue: 'old', waiting: 2, delayed: 1, processing: 0, failed: 0 });
    const claimed = await store.queue.claim({ owner: 'o', queues: ['old'], limit: 10 });
    assert.deepEqual(
      claimed.map((j) => [j.id, j.priority]),
      [
        [a, 0],
        [b, 0],
      ],
    );
    assert.deepEqual(await redis.client.zrange(`${redis.prefix}due:old`, 0, -1), [member(later!)], 'the delayed job waits where it was');
    await store.queue.record({ owner: 'o', results: claimed.map((j) => ({ id: j.id, token: j.token, queue: 'old', outcome: 'completed' as const })) });
  });

  test('a claim moves at most 1000 due jobs into the ready sets, oldest first', async () => {
    const ids = await writeOldLayout(
      'many',
      Array.from({ length: 2500 }, (_, k) => -10_000 + k),
    );
    const [c] = await store.queue.claim({ owner: 'o', queues: ['many'], limit: 1 });
    assert.equal(c!.id, ids[0]);
    assert.equal(await redis.client.zcard(`${redis.prefix}due:many`), 1500);
    assert.equal(await redis.client.zcard(`${redis.prefix}ready:many`), 999);
    assert.equal((await store.admin.counts({ queues: ['many'] }))[0]!.waiting, 2499, 'due jobs count as waiting wherever they are');
    await store.queue.record({ owner: 'o', results: [{ id: c!.id, token: c!.token, queue: 'many', outcome: 'completed' }] });
    for (;;) {
      const got = await store.queue.claim({ owner: 'o', queues: ['many'], limit: 1000 });
      if (got.length === 0) break;
      await store.queue.record({ owner: 'o', results: got.map((j) => ({ id: j.id, token: j.token, queue: 'many', outcome: 'completed' as const })) });
    }
    assert.equal(await redis.client.zcard(`${redis.prefix}due:many`), 0);
  });

  test('keys are opaque: quotes, colons and Lua text are stored and matched as written', async () => {
    const key = `x'"]]..:--\n); redis.call('DEL', KEYS[1]) --`;
    const unique = { key, forMs: null, until: 'done' as const, onConflict: 'skip' as const };
    const [a, dup] = await store.producer.enqueueWithOutcome({
      jobs: [jobRow({ queue: 'opaque', unique, concurrency: { key, limit: 1 }, rate: { key, limit: 5, perMs: 60_000 } }), jobRow({ queue: 'opaque', unique })],
    });
    assert.deepEqual(dup, { id: a!.id, duplicate: true });
    const p = redis.prefix;
    assert.equal(await redis.client.get(`${p}unique:${'Ok'.length}:Ok:${key}`), String(a!.id));
    const claimed = await store.queue.claim({ owner: 'o', queues: ['opaque'], limit: 5 });
    assert.deepEqual(await redis.client.smembers(`${p}conc:${key}`), [member(a!.id)]);
    const rec = (await store.admin.getJob({ id: a!.id }))!;
    assert.deepEqual([rec.uniqueKey, rec.concurrencyKey, rec.rateKey], [key, key, key]);
    await store.queue.record({ owner: 'o', results: [{ ...claimsById(claimed)(a!.id), queue: 'opaque', outcome: 'completed' }] });
    assert.equal(await redis.client.exists(`${p}unique:${'Ok'.length}:Ok:${key}`, `${p}conc:${key}`), 0, 'lock and slot are gone');
  });

  test("a job whose 'for' window ended does not release the lock its successor took", async () => {
    const unique = { key: 'succ', forMs: 60_000, until: 'done' as const, onConflict: 'skip' as const };
    const [a] = await store.producer.enqueue({ jobs: [jobRow({ queue: 'succ', unique })] });
    const lock = `${redis.prefix}unique:${'Ok'.length}:Ok:succ`;
    assert.ok((await redis.client.pttl(lock)) > 50_000, 'the window is the lock TTL');
    await redis.client.pexpire(lock, 1); // the window ends
    await new Promise((r) => setTimeout(r, 5)); // past a 1 ms TTL
    const [b] = await store.producer.enqueueWithOutcome({ jobs: [jobRow({ queue: 'succ', unique })] });
    assert.equal(b!.duplicate, false);
    assert.equal((await store.admin.getJob({ id: a! }))!.uniqueKey, null, 'the old job no longer holds it');
    const claimed = await store.queue.claim({ owner: 'o', queues: ['succ'], limit: 1 });
    assert.deepEqual(
      claimed.map((j) => j.id),
      [a],
    );
    await store.queue.record({ owner: 'o', results: [{ ...claimed[0]!, outcome: 'completed' }] });
    assert.equal(await redis.client.get(lock), String(b!.id), "the successor's lock stands");
  });
});
