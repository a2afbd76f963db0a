// Flow control on every store (issue 15): claim order by priority, unique keys, concurrency
// slots per key, rate windows per key. What a claim holds back spends no attempt.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import type { ClaimedJob, JobId, JobResult, JobStore, NewJob } from '../src/stores/store.ts';
import { describeEachStore, drain, reopen } from './helpers/conformance.ts';
import { claimsById, jobRow } from './helpers/job-rows.ts';
import type { StoreFixture } from './helpers/stores.ts';

const unique = (key: string, more: Partial<NonNullable<NewJob['unique']>> = {}): NewJob['unique'] => ({
  key,
  forMs: null,
  until: 'done',
  onConflict: 'skip',
  ...more,
});

const done = (j: ClaimedJob): JobResult => ({ id: j.id, token: j.token, queue: j.queue, outcome: 'completed' });

describeEachStore('flow', (fixture) => {
  let fx: StoreFixture;
  let store: JobStore;
  before(() => {
    fx = fixture();
    store = fx.store;
  });
  const claim = (queues: string[] | null, limit = 50, owner = 'o') => store.queue.claim({ owner, queues, limit });
  const ids = (jobs: ClaimedJob[]) => jobs.map((j) => j.id);
  const row = async (id: JobId) => (await store.admin.getJob({ id }))!;
  /** A registered runtime: recovery gives back only the jobs of runtimes it knows. */
  const register = (id: string) => store.registry.registerRuntime({ runtime: { id, host: 'h', pid: 1, queues: null, threads: 4 } });

  // ---- priority --------------------------------------------------------------------------------

  test('within a queue: priority (lower first), then due time, then id; retries keep it', async () => {
    await drain(store);
    const [p5, m3a, z, m3b] = await store.producer.enqueue({
      jobs: [jobRow({ queue: 'pr', priority: 5 }), jobRow({ queue: 'pr', priority: -3 }), jobRow({ queue: 'pr' }), jobRow({ queue: 'pr', priority: -3 })],
    });
    // A more urgent job that is not due yet does not go first.
    await store.producer.enqueue({ jobs: [jobRow({ queue: 'pr', priority: -1000, delayMs: 3_600_000 })] });
    const first = await claim(['pr'], 2);
    assert.deepEqual(ids(first), [m3a, m3b]);
    assert.deepEqual(
      first.map((j) => j.priority),
      [-3, -3],
    );
    const rest = await claim(['pr'], 10);
    assert.deepEqual(ids(rest), [z, p5]);
    // A retry keeps its priority: it still goes after a priority-0 job dispatched after it.
    const [later] = await store.producer.enqueue({ jobs: [jobRow({ queue: 'pr' })] });
    const p5Claim = rest.find((j) => j.id === p5)!;
    await store.queue.record({ owner: 'o', results: [{ ...done(p5Claim), outcome: 'retry', error: 'again', delayMs: 0 }, done(rest[0]!)] });
    const again = await claim(['pr'], 10);
    assert.deepEqual(ids(again), [later, p5]);
    assert.equal(again[1]!.priority, 5);
    assert.equal((await row(p5!)).priority, 5);
    await store.queue.record({ owner: 'o', results: again.map(done) });
  });

  test('--queue order comes before priority; across all queues priority decides', async () => {
    await drain(store);
    const [a] = await store.producer.enqueue({ jobs: [jobRow({ queue: 'pq-a', priority: 100 })] });
    const [b] = await store.producer.enqueue({ jobs: [jobRow({ queue: 'pq-b', priority: -100 })] });
    assert.deepEqual(ids(await claim(['pq-a', 'pq-b'], 1)), [a]);
    assert.deepEqual(ids(await claim(['pq-a', 'pq-b'], 1)), [b]);
    const [c] = await store.producer.enqueue({ jobs: [jobRow({ queue: 'pq-a', priority: 100 })] });
    const [d] = await store.producer.enqueue({ jobs: [jobRow({ queue: 'pq-b', priority: -100 })] });
    assert.deepEqual(ids(await claim(null, 2)), [d, c]);
    await drain(store);
  });

  // ---- unique keys -----------------------------------------------------------------------------

  test('a duplicate returns the standing id and stores nothing; keys are per handler', async () => {
    const [first] = await store.producer.enqueueWithOutcome({ jobs: [jobRow({ queue: 'u1', unique: unique('bob') })] });
    assert.equal(first!.duplicate, false);
    const [dup] = await store.producer.enqueueWithOutcome({ jobs: [jobRow({ queue: 'u1', unique: unique('bob'), payload: { v: 2 } })] });
    assert.deepEqual(dup, { id: first!.id, duplicate: true });
    const [other] = await store.producer.enqueueWithOutcome({ jobs: [jobRow({ queue: 'u1', handler: 'Other', unique: unique('bob') })] });
    assert.equal(other!.duplicate, false, 'another handler with the same key is another job');
    assert.equal((await store.admin.counts({ queues: ['u1'] }))[0]!.waiting, 2);
    assert.equal((await row(first!.id)).payload, '{}', 'skip leaves the standing job as it was');
    assert.equal((await row(first!.id)).uniqueKey, 'bob');
    // enqueue (ids only) gives the standing id too.
    assert.deepEqual(await store.producer.enqueue({ jobs: [jobRow({ queue: 'u1', unique: unique('bob') })] }), [first!.id]);
    await drain(store);
  });

  test('within one call, a later job with the same key is a duplicate of the earlier one', async () => {
    const out = await store.producer.enqueueWithOutcome({
      jobs: [
        jobRow({ queue: 'u2', unique: unique('k1') }),
        jobRow({ queue: 'u2', unique: unique('k1') }),
        jobRow({ queue: 'u2', unique: unique('k2') }),
        jobRow({ queue: 'u2' }),
      ],
    });
    assert.deepEqual(
      out.map((o) => o.duplicate),
      [false, true, false, false],
    );
    assert.equal(out[1]!.id, out[0]!.id);
    assert.equal((await store.admin.counts({ queues: ['u2'] }))[0]!.waiting, 3);
    await drain(store);
  });

  test('8 dispatchers at once with one key: one job', async () => {
    const others = await Promise.all(Array.from({ length: 8 }, () => reopen(fx)));
    try {
      const outs = await Promise.all(
        others.map((s, i) => s.producer.enqueueWithOutcome({ jobs: [jobRow({ queue: 'u3', unique: unique('race'), payload: { i } })] })),
      );
      const flat = outs.map((o) => o[0]!);
      assert.equal(flat.filter((o) => !o.duplicate).length, 1);
      assert.equal(new Set(flat.map((o) => o.id)).size, 1, 'every dispatcher got the standing id');
      assert.equal((await store.admin.counts({ queues: ['u3'] }))[0]!.waiting, 1);
    } finally {
      await Promise.all(others.map((s) => s.close()));
    }
    await drain(store);
  });

  test("replace updates a waiting job's payload and due time, not a running one's", async () => {
    const [a] = await store.producer.enqueueWithOutcome({ jobs: [jobRow({ queue: 'u4', unique: unique('r', { onConflict: 'replace' }), payload: { v: 1 } })] });
    const [b] = await store.producer.enqueueWithOutcome({
      jobs: [jobRow({ queue: 'u4', unique: unique('r', { onConflict: 'replace' }), payload: { v: 2 }, delayMs: 3_600_000 })],
    });
    assert.deepEqual(b, { id: a!.id, duplicate: true });
    const waiting = await row(a!.id);
    assert.equal(waiting.payload, '{"v":2}');
    assert.ok(waiting.scheduledAt.getTime() > Date.now() + 3_000_000, 'the new due time applies');
    await fx.backdate.jobs([a!.id], 3_600_000 + 60_000, 'scheduled');
    const [running] = await claim(['u4'], 1);
    await store.producer.enqueueWithOutcome({ jobs: [jobRow({ queue: 'u4', unique: unique('r', { onConflict: 'replace' }), payload: { v: 3 } })] });
    assert.equal((await row(a!.id)).payload, '{"v":2}', 'a running job keeps its payload');
    await store.queue.record({ owner: 'o', results: [done(running!)] });
  });

  test('the key is released at completion and at the final failure, kept through retries', async () => {
    const key = unique('life');
    const [a] = await store.producer.enqueue({ jobs: [jobRow({ queue: 'u5', unique: key, maxAttempts: 2 })] });
    const [c1] = await claim(['u5'], 1);
    await store.queue.record({ owner: 'o', results: [{ ...done(c1!), outcome: 'retry', error: 'x', delayMs: 0 }] });
    assert.deepEqual(await store.producer.enqueueWithOutcome({ jobs: [jobRow({ queue: 'u5', unique: key })] }), [{ id: a, duplicate: true }]);
    const [c2] = await claim(['u5'], 1);
    await store.queue.record({ owner: 'o', results: [{ ...done(c2!), outcome: 'failed', error: 'x' }] });
    assert.equal((await row(a!)).uniqueKey, null, 'a failed job no longer holds its key');
    const [b] = await store.producer.enqueueWithOutcome({ jobs: [jobRow({ queue: 'u5', unique: key })] });
    assert.equal(b!.duplicate, false);
    const [c3] = await claim(['u5'], 1);
    await store.queue.record({ owner: 'o', results: [done(c3!)], keepCompleted: true });
    const [c] = await store.producer.enqueueWithOutcome({ jobs: [jobRow({ queue: 'u5', unique: key })] });
    assert.equal(c!.duplicate, false, 'a completed job (kept or not) no longer holds its key');
    await drain(store);
  });

  test("until 'started': the claim releases the key", async () => {
    const key = unique('st', { until: 'started' });
    await store.producer.enqueue({ jobs: [jobRow({ queue: 'u6', unique: key })] });
    assert.equal((await store.producer.enqueueWithOutcome({ jobs: [jobRow({ queue: 'u6', unique: key })] }))[0]!.duplicate, true);
    const [running] = await claim(['u6'], 1);
    assert.equal((await store.producer.enqueueWithOutcome({ jobs: [jobRow({ queue: 'u6', unique: key })] }))[0]!.duplicate, false);
    await store.queue.record({ owner: 'o', results: [done(running!)] });
    await drain(store);
  });

  test("the key is kept across the crash recovery of the job's runtime", async () => {
    const key = unique('crash');
    const [a] = await store.producer.enqueue({ jobs: [jobRow({ queue: 'u7', unique: key })] });
    await register('crashed-1');
    await claim(['u7'], 1, 'crashed-1');
    const report = await store.registry.recoverDeadRuntimes({ deadAfterMs: 60_000, maxInterruptions: 3, alsoDead: ['crashed-1'] });
    assert.equal(report.released, 1);
    assert.deepEqual(await store.producer.enqueueWithOutcome({ jobs: [jobRow({ queue: 'u7', unique: key })] }), [{ id: a, duplicate: true }]);
    await drain(store);
  });

  test("after the 'for' window a new job with the key is accepted, though the old one stands", async () => {
    const key = unique('win', { forMs: 300 });
    const started = Date.now();
    const [a] = await store.producer.enqueue({ jobs: [jobRow({ queue: 'u8', unique: key })] });
    let accepted: JobId | null = null;
    for (let i = 0; i < 100 && accepted === null; i++) {
      const [o] = await store.producer.enqueueWithOutcome({ jobs: [jobRow({ queue: 'u8', unique: key })] });
      if (o!.duplicate) assert.equal(o!.id, a);
      else accepted = o!.id;
      if (accepted === null) await new Promise((r) => setTimeout(r, 50)); // polling the store's answer, bounded
    }
    assert.ok(accepted !== null, 'accepted within 5 s');
    assert.ok(Date.now() - started >= 250, 'not before the window (300 ms, store clock) ended');
    assert.equal((await store.admin.counts({ queues: ['u8'] }))[0]!.waiting, 2, 'the old job stands');
    await drain(store);
  });

  // ---- concurrency keys ------------------------------------------------------------------------

  test('a full concurrency key holds its other jobs back as blocked, spending no attempt; others pass', async () => {
    await drain(store);
    const conc = { key: 'acct-1', limit: 2 };
    const keyed = await store.producer.enqueue({ jobs: Array.from({ length: 5 }, (_, i) => jobRow({ queue: 'c1', concurrency: conc, payload: { i } })) });
    const [free] = await store.producer.enqueue({ jobs: [jobRow({ queue: 'c1' })] });
    const first = await claim(['c1'], 10);
    assert.deepEqual(ids(first), [keyed[0], keyed[1], free], 'two of the key, then the job behind the blocked ones');
    for (const id of keyed.slice(2)) {
      const r = await row(id);
      assert.deepEqual([r.status, r.attempts, r.concurrencyKey], ['blocked', 0, 'acct-1']);
    }
    const counts = (await store.admin.counts({ queues: ['c1'] }))[0]!;
    assert.equal(counts.concurrencyLimited, 3);
    assert.equal(counts.processing, 3);
    assert.deepEqual(await claim(['c1'], 10), [], 'blocked jobs are not claimed again');
    // One slot frees: exactly one blocked job (the first) becomes claimable.
    const claimOf = claimsById(first);
    await store.queue.record({ owner: 'o', results: [{ ...claimOf(keyed[0]!), queue: 'c1', outcome: 'completed' }] });
    const second = await claim(['c1'], 10);
    assert.deepEqual(ids(second), [keyed[2]]);
    assert.equal(second[0]!.attempts, 1, 'the blocked time cost no attempt');
    // A stale result (an older claim's token) frees nothing.
    await store.queue.record({ owner: 'o', results: [{ id: keyed[1]!, token: 'ffffffffffffffff', queue: 'c1', outcome: 'completed' }] });
    assert.deepEqual(await claim(['c1'], 10), []);
    // A release (claim given back unrun) frees the slot too: the released job runs again first.
    await store.queue.release({ owner: 'o', jobs: [claimOf(keyed[1]!)] });
    const third = await claim(['c1'], 10);
    assert.deepEqual(ids(third), [keyed[1]]);
    // Everything of the key that runs ends: the rest are unblocked and drain.
    await store.queue.record({ owner: 'o', results: [...second, ...third].map(done) });
    await store.queue.record({ owner: 'o', results: [{ ...claimOf(free!), queue: 'c1', outcome: 'completed' }] });
    await drain(store);
    assert.equal((await store.admin.counts({ queues: ['c1'] }))[0]?.concurrencyLimited ?? 0, 0);
  });

  test("a dead runtime's slots are freed by its recovery", async () => {
    await drain(store);
    const conc = { key: 'acct-2', limit: 1 };
    const [a, b] = await store.producer.enqueue({ jobs: [jobRow({ queue: 'c2', concurrency: conc }), jobRow({ queue: 'c2', concurrency: conc })] });
    await register('killed-1');
    assert.deepEqual(ids(await claim(['c2'], 10, 'killed-1')), [a]);
    assert.equal((await row(b!)).status, 'blocked');
    await store.registry.recoverDeadRuntimes({ deadAfterMs: 60_000, maxInterruptions: 3, alsoDead: ['killed-1'] });
    // Both wait again; the slot is free: the recovered job, first in order, takes it.
    assert.deepEqual(ids(await claim(['c2'], 10)), [a]);
    assert.equal((await row(b!)).status, 'blocked');
    await drain(store);
  });

  test('slots free in claim order: the most urgent blocked job is unblocked first', async () => {
    await drain(store);
    const conc = { key: 'acct-3', limit: 1 };
    const [a, low, high] = await store.producer.enqueue({
      jobs: [
        jobRow({ queue: 'c3', concurrency: conc }),
        jobRow({ queue: 'c3', concurrency: conc, priority: 10 }),
        jobRow({ queue: 'c3', concurrency: conc, priority: -10 }),
      ],
    });
    const first = await claim(['c3'], 10);
    assert.deepEqual(ids(first), [high], 'the most urgent takes the slot');
    await store.queue.record({ owner: 'o', results: first.map(done) });
    assert.deepEqual(ids(await claim(['c3'], 10)), [a]);
    assert.equal((await row(low!)).status, 'blocked');
    await drain(store);
  });

  test("the orphan sweep frees a slot exactly once and keeps the job's unique key", async () => {
    const conc = { key: 'orphan-acct', limit: 1 };
    const [a, b] = await store.producer.enqueue({
      jobs: [jobRow({ queue: 'orph', concurrency: conc, unique: unique('orphan') }), jobRow({ queue: 'orph', concurrency: conc })],
    });
    const [held] = await store.queue.claim({ owner: 'ghost', queues: ['orph'], limit: 5 });
    assert.equal(held!.id, a);
    assert.equal((await row(b!)).status, 'blocked');
    await fx.backdate.jobs([a!], 120_000, 'claimed');
    assert.deepEqual(await store.registry.sweepOrphans({ deadAfterMs: 60_000, maxInterruptions: 3 }), { released: 1, failed: 0 });
    assert.equal((await row(b!)).status, 'new', 'the freed slot unblocked the next job');
    assert.deepEqual(await store.producer.enqueueWithOutcome({ jobs: [jobRow({ queue: 'orph', unique: unique('orphan') })] }), [{ id: a, duplicate: true }]);
    // The ghost's late result is stale: it frees nothing a second time.
    const again = await store.queue.claim({ owner: 'o', queues: ['orph'], limit: 5 });
    assert.deepEqual(
      again.map((j) => j.id),
      [a],
    );
    assert.equal((await store.queue.record({ owner: 'ghost', results: [{ ...held!, outcome: 'completed' }] })).stale.length, 1);
    assert.equal((await row(b!)).status, 'blocked', 'b waits for the slot a holds again');
    await store.queue.record({ owner: 'o', results: again.map((j) => ({ ...j, outcome: 'completed' as const })) });
    assert.equal((await row(b!)).status, 'new');
    await drain(store);
  });

  // ---- rate limits -----------------------------------------------------------------------------

  test('over a rate limit, jobs move to the next window with jitter, spending no attempt', async () => {
    await drain(store);
    const hour = 3_600_000;
    const rate = { key: 'mailgun', limit: 2, perMs: hour };
    const jobs = await store.producer.enqueue({ jobs: Array.from({ length: 5 }, () => jobRow({ queue: 'r1', rate })) });
    const before = Date.now();
    const first = await claim(['r1'], 10);
    assert.deepEqual(ids(first), jobs.slice(0, 2));
    const nextWindow = (Math.floor(before / hour) + 1) * hour;
    for (const id of jobs.slice(2)) {
      const r = await row(id);
      assert.equal(r.status, 'new');
      assert.equal(r.attempts, 0);
      assert.equal(r.rateKey, 'mailgun');
      const at = r.scheduledAt.getTime();
      // The store's clock may differ from this process's by a little: a window boundary either side.
      assert.ok(at >= nextWindow - 5_000 && at <= nextWindow + 1_000 + 5_000, `deferred to the next window: ${new Date(at).toISOString()}`);
    }
    const counts = (await store.admin.counts({ queues: ['r1'] }))[0]!;
    assert.equal(counts.rateLimited, 3);
    assert.equal(counts.delayed, 3);
    assert.deepEqual(await claim(['r1'], 10), []);
    await store.queue.record({ owner: 'o', results: first.map(done) });
  });

  test('a short window: never more than the limit starts per window, and the rest run later', async () => {
    await drain(store);
    const rate = { key: 'short', limit: 3, perMs: 400 };
    const jobs = await store.producer.enqueue({ jobs: Array.from({ length: 9 }, () => jobRow({ queue: 'r2', rate })) });
    const seen = new Set<JobId>();
    const startTimes: number[] = [];
    const deadline = Date.now() + 10_000;
    while (seen.size < jobs.length && Date.now() < deadline) {
      const got = await claim(['r2'], 10);
      assert.ok(got.length <= 3, `one claim took ${got.length} starts of a limit of 3`);
      for (const j of got) {
        seen.add(j.id);
        startTimes.push(Date.now());
        assert.equal(j.attempts, 1, 'deferrals spent no attempt');
      }
      if (got.length) await store.queue.record({ owner: 'o', results: got.map(done) });
      else await new Promise((r) => setTimeout(r, 20)); // polls the store, bounded by the deadline
    }
    assert.equal(seen.size, 9, 'every job ran');
    // 9 starts at 3 per 400 ms window need 3 windows: the last starts at least 2 windows after the
    // first window began (less this process's rounding against the store's clock).
    const span = startTimes[startTimes.length - 1]! - startTimes[0]!;
    assert.ok(span >= 400, `9 starts spread over ${span} ms`);
    // Within any one window of the store, at most 3: 4 starts closer together than 400 ms never
    // fall in one window only if they straddle a boundary, so any 7 consecutive starts span > 400 ms.
    for (let i = 0; i + 6 < startTimes.length; i++)
      assert.ok(startTimes[i + 6]! - startTimes[i]! > 300, `7 starts within ${startTimes[i + 6]! - startTimes[i]!} ms`);
  });
});
