// One suite, every store: a store is done when all of these pass on it.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { JobStore, NewJob } from '../src/stores/store.ts';
import { STORE_FACTORIES, type StoreFixture } from './helpers/stores.ts';
import { sleep } from './helpers/wait.ts';

const job = (over: Partial<NewJob> = {}): NewJob => ({
  handler: 'Ok',
  queue: 'default',
  payload: '{}',
  delayMs: 0,
  maxAttempts: 1,
  retryAfterMs: 0,
  timeoutMs: null,
  ...over,
});

for (const factory of STORE_FACTORIES) {
  describe(`store conformance: ${factory.kind}`, () => {
    let fx: StoreFixture;
    let store: JobStore;
    // Each test uses queues of its own name, so tests do not see each other's jobs.
    before(async () => {
      fx = await factory.create('conformance');
      store = fx.store;
    });
    after(async () => fx?.cleanup());

    test('enqueue, claim and complete: the row is gone, or kept as completed when asked', async () => {
      const [a, b] = await store.enqueue({ jobs: [job({ queue: 'rt', payload: '{"n":1}' }), job({ queue: 'rt', payload: '{"n":2}' })] });
      assert.ok(a! < b!, 'ids ascend in dispatch order');
      const claimed = await store.claim({ owner: 'o1', queues: ['rt'], limit: 10 });
      assert.deepEqual(claimed.map((j) => j.id), [a, b]);
      assert.equal(claimed[0]!.payload, '{"n":1}');
      assert.equal(claimed[0]!.attempts, 1, 'the claim counts the attempt');
      assert.equal((await store.getJob({ id: a! }))!.status, 'processing');
      assert.equal((await store.getJob({ id: a! }))!.owner, 'o1');
      await store.record({ owner: 'o1', results: [{ id: a!, outcome: 'completed' }] });
      await store.record({ owner: 'o1', results: [{ id: b!, outcome: 'completed' }], keepCompleted: true });
      assert.equal(await store.getJob({ id: a! }), null);
      assert.equal((await store.getJob({ id: b! }))!.status, 'completed');
      assert.deepEqual(await store.claim({ owner: 'o1', queues: ['rt'], limit: 10 }), []);
    });

    test('a delayed job is not claimed before it is due, and is claimed once due', async () => {
      const [id] = await store.enqueue({ jobs: [job({ queue: 'delay', delayMs: 400 })] });
      assert.deepEqual(await store.claim({ owner: 'o', queues: ['delay'], limit: 5 }), []);
      assert.deepEqual((await store.counts({ queues: ['delay'] }))[0], { queue: 'delay', waiting: 0, delayed: 1, processing: 0, failed: 0 });
      await sleep(450);
      const claimed = await store.claim({ owner: 'o', queues: ['delay'], limit: 5 });
      assert.deepEqual(claimed.map((j) => j.id), [id]);
    });

    test('queues are claimed in strict order, and by due time then id within a queue', async () => {
      const [b1] = await store.enqueue({ jobs: [job({ queue: 'qb' })] });
      const [a1, a2] = await store.enqueue({ jobs: [job({ queue: 'qa' }), job({ queue: 'qa' })] });
      const [b2] = await store.enqueue({ jobs: [job({ queue: 'qb' })] });
      const first = await store.claim({ owner: 'o', queues: ['qa', 'qb'], limit: 3 });
      assert.deepEqual(first.map((j) => j.id), [a1, a2, b1]);
      const second = await store.claim({ owner: 'o', queues: ['qa', 'qb'], limit: 3 });
      assert.deepEqual(second.map((j) => j.id), [b2]);
    });

    test('null queues claims from every queue, oldest due first', async () => {
      await drain(store);
      const ids = await store.enqueue({ jobs: [job({ queue: 'x1' }), job({ queue: 'x2' }), job({ queue: 'x1' })] });
      const claimed = await store.claim({ owner: 'o', queues: null, limit: 10 });
      assert.deepEqual(claimed.map((j) => j.id), ids);
    });

    test('retry puts the job back with the error kept, due after the retry delay', async () => {
      const [id] = await store.enqueue({ jobs: [job({ queue: 'retry', maxAttempts: 3, retryAfterMs: 300 })] });
      const [c] = await store.claim({ owner: 'o', queues: ['retry'], limit: 1 });
      assert.equal(c!.maxAttempts, 3);
      assert.equal(c!.retryAfterMs, 300);
      await store.record({ owner: 'o', results: [{ id: id!, outcome: 'retry', error: 'Error: first\n    at x', delayMs: 300 }] });
      const row = (await store.getJob({ id: id! }))!;
      assert.equal(row.status, 'new');
      assert.equal(row.attempts, 1);
      assert.equal(row.exception, 'Error: first\n    at x');
      assert.equal(row.owner, null);
      assert.deepEqual(await store.claim({ owner: 'o', queues: ['retry'], limit: 1 }), [], 'not due yet');
      await sleep(350);
      const [again] = await store.claim({ owner: 'o2', queues: ['retry'], limit: 1 });
      assert.equal(again!.id, id);
      assert.equal(again!.attempts, 2);
    });

    test('final failure keeps the exception and failed_at', async () => {
      const [id] = await store.enqueue({ jobs: [job({ queue: 'fail' })] });
      await store.claim({ owner: 'o', queues: ['fail'], limit: 1 });
      const before = Date.now();
      await store.record({ owner: 'o', results: [{ id: id!, outcome: 'failed', error: 'Error: final\n    at y' }] });
      const row = (await store.getJob({ id: id! }))!;
      assert.equal(row.status, 'failed');
      assert.equal(row.exception, 'Error: final\n    at y');
      assert.ok(row.failedAt instanceof Date);
      assert.ok(Math.abs(row.failedAt.getTime() - before) < 5_000, `failed_at ${row.failedAt.toISOString()} is now (clock and time zone agree)`);
      assert.deepEqual((await store.counts({ queues: ['fail'] }))[0], { queue: 'fail', waiting: 0, delayed: 0, processing: 0, failed: 1 });
    });

    test("results for jobs another owner holds are ignored; release gives back without charging the attempt", async () => {
      const [id] = await store.enqueue({ jobs: [job({ queue: 'own' })] });
      await store.claim({ owner: 'mine', queues: ['own'], limit: 1 });
      await store.record({ owner: 'stranger', results: [{ id: id!, outcome: 'completed' }] });
      assert.equal((await store.getJob({ id: id! }))!.status, 'processing');
      assert.equal(await store.release({ owner: 'stranger', ids: [id!] }), 0);
      assert.equal(await store.release({ owner: 'mine', ids: [id!] }), 1);
      const row = (await store.getJob({ id: id! }))!;
      assert.equal(row.status, 'new');
      assert.equal(row.attempts, 0);
      assert.equal(row.owner, null);
    });

    test('4 claimers racing on 2,000 jobs claim each id exactly once', async () => {
      await drain(store);
      const ids = await store.enqueue({ jobs: Array.from({ length: 2000 }, (_, i) => job({ queue: 'race', payload: JSON.stringify({ i }) })) });
      // Separate store instances: separate connections (MySQL) or database handles (SQLite).
      const claimers = await Promise.all([1, 2, 3, 4].map(() => reopen(fx)));
      try {
        const got = await Promise.all(
          claimers.map(async (s, n) => {
            const mine: number[] = [];
            for (;;) {
              const batch = await s.claim({ owner: `c${n}`, queues: ['race'], limit: 37 });
              if (batch.length === 0) return mine;
              mine.push(...batch.map((j) => j.id));
            }
          }),
        );
        const all = got.flat();
        assert.equal(all.length, 2000, 'every job claimed');
        assert.equal(new Set(all).size, 2000, 'no job claimed twice');
        assert.deepEqual([...all].sort((x, y) => x - y), ids);
      } finally {
        await Promise.all(claimers.map((s) => s.close()));
      }
    });

    test('bulk enqueue of 10,000 jobs returns 10,000 distinct ascending ids', async () => {
      const ids = await store.enqueue({ jobs: Array.from({ length: 10_000 }, (_, i) => job({ queue: 'bulk', payload: JSON.stringify({ i }) })) });
      assert.equal(ids.length, 10_000);
      for (let i = 1; i < ids.length; i++) assert.ok(ids[i]! > ids[i - 1]!, 'ascending');
      assert.equal((await store.counts({ queues: ['bulk'] }))[0]!.waiting, 10_000);
      const spot = (await store.getJob({ id: ids[4321]! }))!;
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
      const [id] = await store.enqueue({ jobs: [job({ queue: 'utf', payload })] });
      const [c] = await store.claim({ owner: 'o', queues: ['utf'], limit: 1 });
      assert.equal(c!.id, id);
      assert.equal(Buffer.compare(Buffer.from(c!.payload), Buffer.from(payload)), 0);
    });

    test('a 1 MB payload is stored whole; maxPayloadBytes states the limit', async () => {
      const max = await store.maxPayloadBytes();
      assert.ok(max >= 1_000_000, `limit ${max} allows 1 MB`);
      const payload = JSON.stringify({ blob: 'é'.repeat(500_000) });
      const [id] = await store.enqueue({ jobs: [job({ queue: 'big', payload })] });
      assert.equal((await store.getJob({ id: id! }))!.payload, payload);
    });

    test('counts per queue: waiting, delayed, processing, failed', async () => {
      await store.enqueue({ jobs: [job({ queue: 'cnt' }), job({ queue: 'cnt' }), job({ queue: 'cnt' }), job({ queue: 'cnt', delayMs: 60_000 })] });
      const [p, f] = await store.claim({ owner: 'o', queues: ['cnt'], limit: 2 });
      await store.record({ owner: 'o', results: [{ id: f!.id, outcome: 'failed', error: 'x' }] });
      assert.ok(p);
      assert.deepEqual((await store.counts({ queues: ['cnt'] }))[0], { queue: 'cnt', waiting: 1, delayed: 1, processing: 1, failed: 1 });
    });

    test('limits per job survive the round trip', async () => {
      const [id] = await store.enqueue({ jobs: [job({ queue: 'lim', maxAttempts: 7, retryAfterMs: 90_000, timeoutMs: 1234, handler: 'mail/SendMail' })] });
      const [c] = await store.claim({ owner: 'o', queues: ['lim'], limit: 1 });
      assert.deepEqual(
        { id: c!.id, handler: c!.handler, queue: c!.queue, maxAttempts: c!.maxAttempts, retryAfterMs: c!.retryAfterMs, timeoutMs: c!.timeoutMs },
        { id, handler: 'mail/SendMail', queue: 'lim', maxAttempts: 7, retryAfterMs: 90_000, timeoutMs: 1234 },
      );
    });

    describe('runtime registry and crash recovery', () => {
      const info = (id: string) => ({ id, host: 'h', pid: 1, queues: ['a', 'b'], threads: 4 });
      const stats = { cpuPercent: 12.5, rssBytes: 50_000_000, jobsDone: 10, jobsFailed: 2, busyThreads: 3 };
      // Earlier tests left jobs claimed by owners that never registered: give them back first,
      // so each test here counts only its own.
      before(async () => {
        await store.recoverDeadRuntimes({ deadAfterMs: 0, maxInterruptions: 1000 });
      });

      test('register, heartbeat with stats, list, deregister', async () => {
        await store.registerRuntime({ runtime: info('reg-1') });
        await store.heartbeat({ runtime: info('reg-1'), stats });
        const mine = (await store.listRuntimes({})).find((r) => r.id === 'reg-1')!;
        assert.deepEqual(
          { queues: mine.queues, threads: mine.threads, cpu: mine.cpuPercent, rss: mine.rssBytes, done: mine.jobsDone, failed: mine.jobsFailed, busy: mine.busyThreads },
          { queues: ['a', 'b'], threads: 4, cpu: 12.5, rss: 50_000_000, done: 10, failed: 2, busy: 3 },
        );
        assert.ok(mine.silentForMs >= 0 && mine.silentForMs < 2_000, `silent for ${mine.silentForMs} ms`);
        await store.deregisterRuntime({ id: 'reg-1' });
        assert.equal((await store.listRuntimes({})).some((r) => r.id === 'reg-1'), false);
      });

      test("a silent runtime's jobs go back to new without charging the attempt; a live one's stay", async () => {
        await store.registerRuntime({ runtime: info('dead-1') });
        await store.registerRuntime({ runtime: info('live-1') });
        const [d1, d2, l1] = await store.enqueue({ jobs: [job({ queue: 'rec' }), job({ queue: 'rec' }), job({ queue: 'rec' })] });
        await store.claim({ owner: 'dead-1', queues: ['rec'], limit: 2 });
        await store.claim({ owner: 'live-1', queues: ['rec'], limit: 1 });
        await sleep(400);
        await store.heartbeat({ runtime: info('live-1'), stats });
        const report = await store.recoverDeadRuntimes({ deadAfterMs: 300, maxInterruptions: 3 });
        assert.deepEqual(report, { runtimes: ['dead-1'], released: 2, failed: 0 });
        for (const id of [d1!, d2!]) {
          const row = (await store.getJob({ id }))!;
          assert.deepEqual([row.status, row.attempts, row.owner, row.interruptions], ['new', 0, null, 1]);
        }
        assert.equal((await store.getJob({ id: l1! }))!.owner, 'live-1', "the live runtime's job is not taken");
        assert.equal((await store.listRuntimes({})).some((r) => r.id === 'dead-1'), false);
        const again = await store.recoverDeadRuntimes({ deadAfterMs: 300, maxInterruptions: 3 });
        assert.deepEqual(again, { runtimes: [], released: 0, failed: 0 });
        await store.deregisterRuntime({ id: 'live-1' });
      });

      test('alsoDead recovers a runtime at once, whatever its heartbeat', async () => {
        await store.registerRuntime({ runtime: info('gone-1') });
        const [id] = await store.enqueue({ jobs: [job({ queue: 'rec2' })] });
        await store.claim({ owner: 'gone-1', queues: ['rec2'], limit: 1 });
        const report = await store.recoverDeadRuntimes({ deadAfterMs: 60_000, maxInterruptions: 3, alsoDead: ['gone-1'] });
        assert.deepEqual(report, { runtimes: ['gone-1'], released: 1, failed: 0 });
        assert.equal((await store.getJob({ id: id! }))!.status, 'new');
      });

      test('a job interrupted more than maxInterruptions times is failed, saying so', async () => {
        const [id] = await store.enqueue({ jobs: [job({ queue: 'poison', maxAttempts: 10 })] });
        for (let i = 1; i <= 3; i++) {
          await store.registerRuntime({ runtime: info(`p-${i}`) });
          await store.claim({ owner: `p-${i}`, queues: ['poison'], limit: 1 });
          const r = await store.recoverDeadRuntimes({ deadAfterMs: 60_000, maxInterruptions: 2, alsoDead: [`p-${i}`] });
          assert.deepEqual([r.released, r.failed], i <= 2 ? [1, 0] : [0, 1], `interruption ${i}`);
        }
        const row = (await store.getJob({ id: id! }))!;
        assert.equal(row.status, 'failed');
        assert.equal(row.interruptions, 3);
        assert.match(row.exception!, /Interrupted 3 times.*more than the 2 allowed/);
        assert.ok(row.failedAt);
      });

      test('two recoverers at once: each dead runtime is recovered exactly once', async () => {
        const ids: string[] = [];
        for (let i = 0; i < 6; i++) {
          ids.push(`race-${i}`);
          await store.registerRuntime({ runtime: info(`race-${i}`) });
          await store.enqueue({ jobs: [job({ queue: 'rrace' }), job({ queue: 'rrace' })] });
          await store.claim({ owner: `race-${i}`, queues: ['rrace'], limit: 2 });
        }
        const [a, b] = await Promise.all([reopen(fx), reopen(fx)]);
        try {
          const reports = await Promise.all([a, b].map((s) => s.recoverDeadRuntimes({ deadAfterMs: 60_000, maxInterruptions: 3, alsoDead: ids })));
          assert.deepEqual(reports.flatMap((r) => r.runtimes).sort(), ids);
          assert.equal(reports[0]!.released + reports[1]!.released, 12);
        } finally {
          await a.close();
          await b.close();
        }
      });

      test('jobs claimed by an owner that never registered are given back once as old as a dead heartbeat', async () => {
        const [id] = await store.enqueue({ jobs: [job({ queue: 'orphan' })] });
        await store.claim({ owner: 'ghost', queues: ['orphan'], limit: 1 });
        assert.equal((await store.recoverDeadRuntimes({ deadAfterMs: 60_000, maxInterruptions: 3 })).released, 0, 'too recent');
        await sleep(250);
        const r = await store.recoverDeadRuntimes({ deadAfterMs: 200, maxInterruptions: 3 });
        assert.ok(r.released >= 1);
        assert.equal((await store.getJob({ id: id! }))!.status, 'new');
      });
    });
  });
}

/** Claims and completes every due job, so a test starts from an empty queue set. */
async function drain(store: JobStore): Promise<void> {
  for (;;) {
    const jobs = await store.claim({ owner: 'drain', queues: null, limit: 1000 });
    if (jobs.length === 0) return;
    await store.record({ owner: 'drain', results: jobs.map((j) => ({ id: j.id, outcome: 'completed' as const })) });
  }
}

async function reopen(fx: StoreFixture): Promise<JobStore> {
  const { openStore } = await import('../src/stores/open-store.ts');
  return openStore(fx.url, { maxConnections: 1 });
}
