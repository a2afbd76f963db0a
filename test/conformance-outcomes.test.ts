// Job outcomes on every store (issue 17): record() and the recovery write one event per change
// in the same transaction or script, stale results none; the application reads them by job
// (waitFor) and by id (jobEvents); the pruner deletes them by age.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import type { JobStore, OutcomeEvent, OutcomeReader } from '../src/stores/store.ts';
import { describeEachStore, drain, reopen } from './helpers/conformance.ts';
import type { StoreFixture } from './helpers/stores.ts';
import { jobRow } from './helpers/job-rows.ts';

describeEachStore('outcomes', (fixture) => {
  let fx: StoreFixture;
  let store: JobStore;
  let reader: OutcomeReader;
  /** Every event of `queue` after `after`. */
  const eventsOf = async (queue: string, after: string | null = null): Promise<OutcomeEvent[]> =>
    (await reader.outcomeEvents({ after, queues: [queue], limit: 1000 })).events;
  before(async () => {
    fx = fixture();
    store = fixture().store;
    reader = store.producer.outcomes!;
    assert.ok(reader, 'every store that keeps jobs reads outcomes');
    await drain(store);
  });

  test('record keeps an event per applied result, in commit order, and the final one per job', async () => {
    const [a, b, c] = await store.producer.enqueue({ jobs: [jobRow({ queue: 'oc' }), jobRow({ queue: 'oc', maxAttempts: 2 }), jobRow({ queue: 'oc' })] });
    const claimed = await store.queue.claim({ owner: 'o1', queues: ['oc'], limit: 10 });
    const token = (id: number) => claimed.find((j) => j.id === id)!.token;
    await store.queue.record({
      owner: 'o1',
      keepOutcomes: true,
      results: [
        { id: a!, token: token(a!), queue: 'oc', outcome: 'completed', attempt: 1, durationMs: 12.5, result: '{"sent":true}' },
        { id: b!, token: token(b!), queue: 'oc', outcome: 'retry', error: 'Error: boom', delayMs: 0, attempt: 1, durationMs: 3 },
        { id: c!, token: token(c!), queue: 'oc', outcome: 'failed', error: 'Error: bad', attempt: 1, durationMs: 4 },
      ],
    });
    const events = await eventsOf('oc');
    assert.deepEqual(
      events.map((e) => [e.jobId, e.kind, e.handler, e.queue, e.attempt]),
      [
        [a, 'completed', 'Ok', 'oc', 1],
        [b, 'retrying', 'Ok', 'oc', 1],
        [c, 'failed', 'Ok', 'oc', 1],
      ],
    );
    assert.equal(events[0]!.result, '{"sent":true}');
    assert.equal(events[0]!.durationMs, 12.5);
    assert.equal(events[0]!.error, null);
    assert.equal(events[1]!.error, 'Error: boom');
    assert.ok(events[0]!.at instanceof Date && Math.abs(events[0]!.at.getTime() - Date.now()) < 60_000);
    // Ids increase: a follower resumes after any of them.
    assert.deepEqual(
      (await eventsOf('oc', events[0]!.id)).map((e) => e.jobId),
      [b, c],
    );

    const done = await reader.jobOutcome({ id: a! });
    assert.equal(done.final?.kind, 'completed');
    assert.equal(done.final?.result, '{"sent":true}');
    assert.equal((await reader.jobOutcome({ id: c! })).final?.kind, 'failed');
    // A retry is not final: the job waits again.
    assert.deepEqual(await reader.jobOutcome({ id: b! }), { final: null, state: 'waiting' });
    const [again] = await store.queue.claim({ owner: 'o1', queues: ['oc'], limit: 10 });
    assert.deepEqual(await reader.jobOutcome({ id: b! }), { final: null, state: 'running' });
    await store.queue.record({
      owner: 'o1',
      keepOutcomes: true,
      results: [{ id: b!, token: again!.token, queue: 'oc', outcome: 'completed', attempt: 2, durationMs: 1, result: null }],
    });
    const final = await reader.jobOutcome({ id: b! });
    assert.equal(final.final?.kind, 'completed');
    assert.equal(final.final?.attempt, 2);
    assert.equal(final.final?.result, null);
    assert.deepEqual(await reader.jobOutcome({ id: 987_654_321 }), { final: null, state: 'unknown' });
  });

  test('another connection reads the same outcomes', async () => {
    const [id] = await store.producer.enqueue({ jobs: [jobRow({ queue: 'oc-other' })] });
    const [job] = await store.queue.claim({ owner: 'o2', queues: ['oc-other'], limit: 1 });
    await store.queue.record({
      owner: 'o2',
      keepOutcomes: true,
      results: [{ id: id!, token: job!.token, queue: 'oc-other', outcome: 'completed', attempt: 1, durationMs: 1, result: '7' }],
    });
    const other = await reopen(fx);
    try {
      assert.equal((await other.producer.outcomes!.jobOutcome({ id: id! })).final?.result, '7');
    } finally {
      await other.close();
    }
  });

  test('a stale result writes no event; without keepOutcomes nothing is written', async () => {
    const [id, quiet] = await store.producer.enqueue({ jobs: [jobRow({ queue: 'oc-stale' }), jobRow({ queue: 'oc-stale' })] });
    const claimed = await store.queue.claim({ owner: 'o3', queues: ['oc-stale'], limit: 2 });
    const { stale } = await store.queue.record({
      owner: 'o3',
      keepOutcomes: true,
      results: [{ id: id!, token: 'not-the-token', queue: 'oc-stale', outcome: 'completed', attempt: 1, durationMs: 1 }],
    });
    assert.equal(stale.length, 1);
    const q = claimed.find((j) => j.id === quiet)!;
    await store.queue.record({ owner: 'o3', results: [{ id: quiet!, token: q.token, queue: 'oc-stale', outcome: 'completed', attempt: 1, durationMs: 1 }] });
    assert.deepEqual(await eventsOf('oc-stale'), []);
    assert.deepEqual(await reader.jobOutcome({ id: quiet! }), { final: null, state: 'unknown' });
    assert.deepEqual(await reader.jobOutcome({ id: id! }), { final: null, state: 'running' });
  });

  test("recovering a dead runtime's jobs writes 'retrying', or 'failed' past the interruptions allowed", async () => {
    const info = (id: string) => ({ id, host: 'h', pid: 1, queues: null, threads: 1 });
    await store.registry.registerRuntime({ runtime: info('oc-dead-1') });
    const [back] = await store.producer.enqueue({ jobs: [jobRow({ queue: 'oc-rec', maxAttempts: 3 })] });
    await store.queue.claim({ owner: 'oc-dead-1', queues: ['oc-rec'], limit: 1 });
    await fx.backdate.heartbeat('oc-dead-1', 3_600_000);
    const report = await store.registry.recoverDeadRuntimes({ deadAfterMs: 60_000, maxInterruptions: 1, keepOutcomes: true });
    assert.equal(report.released, 1);
    await store.registry.registerRuntime({ runtime: info('oc-dead-2') });
    await store.queue.claim({ owner: 'oc-dead-2', queues: ['oc-rec'], limit: 1 });
    await fx.backdate.heartbeat('oc-dead-2', 3_600_000);
    assert.equal((await store.registry.recoverDeadRuntimes({ deadAfterMs: 60_000, maxInterruptions: 1, keepOutcomes: true })).failed, 1);
    const events = await eventsOf('oc-rec');
    assert.deepEqual(
      events.map((e) => [e.jobId, e.kind, e.attempt, e.durationMs]),
      [
        [back, 'retrying', 1, null],
        [back, 'failed', 1, null],
      ],
    );
    assert.match(events[0]!.error!, /Interrupted: the runtime running it \(oc-dead-1\) died/);
    assert.match(events[1]!.error!, /Interrupted 2 times/);
    assert.equal((await reader.jobOutcome({ id: back! })).final?.kind, 'failed');
  });

  test('the orphan sweep writes its events too', async () => {
    const [id] = await store.producer.enqueue({ jobs: [jobRow({ queue: 'oc-orphan' })] });
    await store.queue.claim({ owner: 'never-registered', queues: ['oc-orphan'], limit: 1 });
    await fx.backdate.jobs([id!], 3_600_000, 'claimed');
    const swept = await store.registry.sweepOrphans({ deadAfterMs: 60_000, maxInterruptions: 3, keepOutcomes: true });
    assert.equal(swept.released, 1);
    assert.deepEqual(
      (await eventsOf('oc-orphan')).map((e) => [e.jobId, e.kind]),
      [[id, 'retrying']],
    );
  });

  test('a queue filter skips other queues, and the cursor moves past what it skipped', async () => {
    const last = await reader.lastEventId();
    assert.ok(last !== null);
    const [x] = await store.producer.enqueue({ jobs: [jobRow({ queue: 'oc-x' })] });
    const [job] = await store.queue.claim({ owner: 'o4', queues: ['oc-x'], limit: 1 });
    await store.queue.record({
      owner: 'o4',
      keepOutcomes: true,
      results: [{ id: x!, token: job!.token, queue: 'oc-x', outcome: 'completed', attempt: 1, durationMs: 1 }],
    });
    const page = await reader.outcomeEvents({ after: last, queues: ['oc-none'], limit: 100 });
    assert.deepEqual(page.events, []);
    const all = await reader.outcomeEvents({ after: last, limit: 100 });
    assert.deepEqual(
      all.events.map((e) => e.jobId),
      [x],
    );
    assert.equal(all.cursor, all.events[0]!.id);
    assert.equal(await reader.lastEventId(), all.events[0]!.id);
    // A filtered read that looked at it passes it (or stays put): never before `after`.
    assert.ok(page.cursor === last || page.cursor === all.cursor);
  });

  test('prune deletes outcomes older than the retention, and only those', async () => {
    const [old] = await store.producer.enqueue({ jobs: [jobRow({ queue: 'oc-prune' })] });
    const [j1] = await store.queue.claim({ owner: 'o5', queues: ['oc-prune'], limit: 1 });
    await store.queue.record({
      owner: 'o5',
      keepOutcomes: true,
      results: [{ id: old!, token: j1!.token, queue: 'oc-prune', outcome: 'completed', attempt: 1, durationMs: 1 }],
    });
    await fx.backdate.outcomes(2 * 3_600_000);
    const [fresh] = await store.producer.enqueue({ jobs: [jobRow({ queue: 'oc-prune' })] });
    const [j2] = await store.queue.claim({ owner: 'o5', queues: ['oc-prune'], limit: 1 });
    await store.queue.record({
      owner: 'o5',
      keepOutcomes: true,
      results: [{ id: fresh!, token: j2!.token, queue: 'oc-prune', outcome: 'completed', attempt: 1, durationMs: 1 }],
    });
    const kept = await store.admin.prune({ completedOlderThanMs: null, failedOlderThanMs: null });
    assert.equal(kept.outcomes, undefined, 'without a retention, outcomes are not pruned');
    const report = await store.admin.prune({ completedOlderThanMs: null, failedOlderThanMs: null, outcomesOlderThanMs: 3_600_000, batchSize: 2 });
    assert.ok(report.outcomes! >= 1);
    assert.deepEqual(await reader.jobOutcome({ id: old! }), { final: null, state: 'unknown' });
    assert.equal((await reader.jobOutcome({ id: fresh! })).final?.kind, 'completed');
    assert.deepEqual(
      (await eventsOf('oc-prune')).map((e) => e.jobId),
      [fresh],
    );
  });
});
