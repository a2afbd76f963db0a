// One suite, every store: a store is done when all of these pass on it.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { JobStore } from '../src/stores/store.ts';
import { claimsById, job, STORE_FACTORIES, type StoreFixture } from './helpers/stores.ts';
import { sleep } from './helpers/wait.ts';

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
      const [a, b] = await store.producer.enqueue({ jobs: [job({ queue: 'rt', payload: '{"n":1}' }), job({ queue: 'rt', payload: '{"n":2}' })] });
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
      const [id] = await store.producer.enqueue({ jobs: [job({ queue: 'delay', delayMs: 400 })] });
      assert.deepEqual(await store.queue.claim({ owner: 'o', queues: ['delay'], limit: 5 }), []);
      assert.deepEqual((await store.admin.counts({ queues: ['delay'] }))[0], { queue: 'delay', waiting: 0, delayed: 1, processing: 0, failed: 0 });
      await sleep(450);
      const claimed = await store.queue.claim({ owner: 'o', queues: ['delay'], limit: 5 });
      assert.deepEqual(
        claimed.map((j) => j.id),
        [id],
      );
    });

    test('queues are claimed in strict order, and by due time then id within a queue', async () => {
      const [b1] = await store.producer.enqueue({ jobs: [job({ queue: 'qb' })] });
      const [a1, a2] = await store.producer.enqueue({ jobs: [job({ queue: 'qa' }), job({ queue: 'qa' })] });
      const [b2] = await store.producer.enqueue({ jobs: [job({ queue: 'qb' })] });
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
      const ids = await store.producer.enqueue({ jobs: [job({ queue: 'x1' }), job({ queue: 'x2' }), job({ queue: 'x1' })] });
      const claimed = await store.queue.claim({ owner: 'o', queues: null, limit: 10 });
      assert.deepEqual(
        claimed.map((j) => j.id),
        ids,
      );
    });

    test('retry puts the job back with the error kept, due after the retry delay', async () => {
      const [id] = await store.producer.enqueue({ jobs: [job({ queue: 'retry', maxAttempts: 3, retryAfterMs: 300 })] });
      const [c] = await store.queue.claim({ owner: 'o', queues: ['retry'], limit: 1 });
      assert.equal(c!.maxAttempts, 3);
      assert.equal(c!.retryAfterMs, 300);
      await store.queue.record({
        owner: 'o',
        results: [{ id: id!, token: c!.token, queue: 'retry', outcome: 'retry', error: 'Error: first\n    at x', delayMs: 300 }],
      });
      const row = (await store.admin.getJob({ id: id! }))!;
      assert.equal(row.status, 'new');
      assert.equal(row.attempts, 1);
      assert.equal(row.exception, 'Error: first\n    at x');
      assert.equal(row.owner, null);
      assert.deepEqual(await store.queue.claim({ owner: 'o', queues: ['retry'], limit: 1 }), [], 'not due yet');
      await sleep(350);
      const [again] = await store.queue.claim({ owner: 'o2', queues: ['retry'], limit: 1 });
      assert.equal(again!.id, id);
      assert.equal(again!.attempts, 2);
    });

    test('final failure keeps the exception and failed_at', async () => {
      const [id] = await store.producer.enqueue({ jobs: [job({ queue: 'fail' })] });
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
      const [id] = await store.producer.enqueue({ jobs: [job({ queue: 'own' })] });
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
      const [id] = await store.producer.enqueue({ jobs: [job({ queue: 'fence', maxAttempts: 5 })] });
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
      const ids = await store.producer.enqueue({ jobs: [job({ queue: 'unheld' }), job({ queue: 'unheld' }), job({ queue: 'unheld' })] });
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
      const ids = await store.producer.enqueue({ jobs: Array.from({ length: 2000 }, (_, i) => job({ queue: 'race', payload: JSON.stringify({ i }) })) });
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

    test('bulk enqueue of 10,000 jobs returns 10,000 distinct ascending ids', async () => {
      const ids = await store.producer.enqueue({ jobs: Array.from({ length: 10_000 }, (_, i) => job({ queue: 'bulk', payload: JSON.stringify({ i }) })) });
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
      const [id] = await store.producer.enqueue({ jobs: [job({ queue: 'utf', payload })] });
      const [c] = await store.queue.claim({ owner: 'o', queues: ['utf'], limit: 1 });
      assert.equal(c!.id, id);
      assert.equal(Buffer.compare(Buffer.from(c!.payload), Buffer.from(payload)), 0);
    });

    test('a 1 MB payload is stored whole; maxPayloadBytes states the limit', async () => {
      const max = await store.producer.maxPayloadBytes();
      assert.ok(max >= 1_000_000, `limit ${max} allows 1 MB`);
      const payload = JSON.stringify({ blob: 'é'.repeat(500_000) });
      const [id] = await store.producer.enqueue({ jobs: [job({ queue: 'big', payload })] });
      assert.equal((await store.admin.getJob({ id: id! }))!.payload, payload);
    });

    test('counts per queue: waiting, delayed, processing, failed', async () => {
      await store.producer.enqueue({ jobs: [job({ queue: 'cnt' }), job({ queue: 'cnt' }), job({ queue: 'cnt' }), job({ queue: 'cnt', delayMs: 60_000 })] });
      const [p, f] = await store.queue.claim({ owner: 'o', queues: ['cnt'], limit: 2 });
      await store.queue.record({ owner: 'o', results: [{ id: f!.id, token: f!.token, queue: 'cnt', outcome: 'failed', error: 'x' }] });
      assert.ok(p);
      assert.deepEqual((await store.admin.counts({ queues: ['cnt'] }))[0], { queue: 'cnt', waiting: 1, delayed: 1, processing: 1, failed: 1 });
    });

    test('limits per job survive the round trip', async () => {
      const [id] = await store.producer.enqueue({
        jobs: [job({ queue: 'lim', maxAttempts: 7, retryAfterMs: 90_000, timeoutMs: 1234, handler: 'mail/SendMail' })],
      });
      const [c] = await store.queue.claim({ owner: 'o', queues: ['lim'], limit: 1 });
      assert.deepEqual(
        { id: c!.id, handler: c!.handler, queue: c!.queue, maxAttempts: c!.maxAttempts, retryAfterMs: c!.retryAfterMs, timeoutMs: c!.timeoutMs },
        { id, handler: 'mail/SendMail', queue: 'lim', maxAttempts: 7, retryAfterMs: 90_000, timeoutMs: 1234 },
      );
    });

    describe('runtime registry and crash recovery', () => {
      const info = (id: string) => ({ id, host: 'h', pid: 1, queues: ['a', 'b'], threads: 4 });
      const stats = { cpuPercent: 12.5, rssBytes: 50_000_000, jobsDone: 10, jobsFailed: 2, busyThreads: 3 };
      // Earlier tests left jobs claimed by owners that never registered: give them back first,
      // so each test here counts only its own. (A claim made in the same millisecond as this
      // recovery is not yet older than deadAfterMs = 0: let the clock move first.)
      before(async () => {
        await sleep(20);
        await store.registry.recoverDeadRuntimes({ deadAfterMs: 0, maxInterruptions: 1000 });
        await store.registry.sweepOrphans({ deadAfterMs: 0, maxInterruptions: 1000 });
      });

      /** Earlier tests leave jobs of deregistered owners claimed: the sweep tests count only their own. */
      const sweepEarlierOrphans = async () => {
        await sleep(20);
        await store.registry.sweepOrphans({ deadAfterMs: 0, maxInterruptions: 1000 });
      };

      test('register, heartbeat with stats, list, deregister', async () => {
        await store.registry.registerRuntime({ runtime: { ...info('reg-1'), slots: 12 } });
        assert.deepEqual(await store.registry.heartbeat({ runtime: { ...info('reg-1'), slots: 12 }, stats, timeoutMs: 5_000 }), { wasRegistered: true });
        const mine = (await store.registry.listRuntimes({})).find((r) => r.id === 'reg-1')!;
        assert.deepEqual(
          {
            queues: mine.queues,
            threads: mine.threads,
            slots: mine.slots,
            cpu: mine.cpuPercent,
            rss: mine.rssBytes,
            done: mine.jobsDone,
            failed: mine.jobsFailed,
            busy: mine.busyThreads,
          },
          { queues: ['a', 'b'], threads: 4, slots: 12, cpu: 12.5, rss: 50_000_000, done: 10, failed: 2, busy: 3 },
        );
        assert.ok(mine.silentForMs >= 0 && mine.silentForMs < 2_000, `silent for ${mine.silentForMs} ms`);
        await store.registry.deregisterRuntime({ id: 'reg-1' });
        assert.equal(
          (await store.registry.listRuntimes({})).some((r) => r.id === 'reg-1'),
          false,
        );
        // A runtime removed meanwhile (a peer took it for dead) learns so from its next beat.
        assert.deepEqual(await store.registry.heartbeat({ runtime: info('reg-1'), stats, timeoutMs: 5_000 }), { wasRegistered: false });
        assert.ok(
          (await store.registry.listRuntimes({})).some((r) => r.id === 'reg-1'),
          'the beat registered it again',
        );
        await store.registry.deregisterRuntime({ id: 'reg-1' });
      });

      test("a silent runtime's jobs go back to new without charging the attempt; a live one's stay", async () => {
        await store.registry.registerRuntime({ runtime: info('dead-1') });
        await store.registry.registerRuntime({ runtime: info('live-1') });
        const [d1, d2, l1] = await store.producer.enqueue({ jobs: [job({ queue: 'rec' }), job({ queue: 'rec' }), job({ queue: 'rec' })] });
        await store.queue.claim({ owner: 'dead-1', queues: ['rec'], limit: 2 });
        await store.queue.claim({ owner: 'live-1', queues: ['rec'], limit: 1 });
        await sleep(400);
        await store.registry.heartbeat({ runtime: info('live-1'), stats, timeoutMs: 5_000 });
        const report = await store.registry.recoverDeadRuntimes({ deadAfterMs: 300, maxInterruptions: 3 });
        assert.deepEqual(report, { runtimes: ['dead-1'], released: 2, failed: 0 });
        for (const id of [d1!, d2!]) {
          const row = (await store.admin.getJob({ id }))!;
          assert.deepEqual([row.status, row.attempts, row.owner, row.interruptions], ['new', 0, null, 1]);
        }
        assert.equal((await store.admin.getJob({ id: l1! }))!.owner, 'live-1', "the live runtime's job is not taken");
        assert.equal(
          (await store.registry.listRuntimes({})).some((r) => r.id === 'dead-1'),
          false,
        );
        const again = await store.registry.recoverDeadRuntimes({ deadAfterMs: 300, maxInterruptions: 3 });
        assert.deepEqual(again, { runtimes: [], released: 0, failed: 0 });
        await store.registry.deregisterRuntime({ id: 'live-1' });
      });

      test('alsoDead recovers a runtime at once, whatever its heartbeat', async () => {
        await store.registry.registerRuntime({ runtime: info('gone-1') });
        const [id] = await store.producer.enqueue({ jobs: [job({ queue: 'rec2' })] });
        await store.queue.claim({ owner: 'gone-1', queues: ['rec2'], limit: 1 });
        const report = await store.registry.recoverDeadRuntimes({ deadAfterMs: 60_000, maxInterruptions: 3, alsoDead: ['gone-1'] });
        assert.deepEqual(report, { runtimes: ['gone-1'], released: 1, failed: 0 });
        assert.equal((await store.admin.getJob({ id: id! }))!.status, 'new');
      });

      test('a job interrupted more than maxInterruptions times is failed, saying so', async () => {
        const [id] = await store.producer.enqueue({ jobs: [job({ queue: 'poison', maxAttempts: 10 })] });
        for (let i = 1; i <= 3; i++) {
          await store.registry.registerRuntime({ runtime: info(`p-${i}`) });
          await store.queue.claim({ owner: `p-${i}`, queues: ['poison'], limit: 1 });
          const r = await store.registry.recoverDeadRuntimes({ deadAfterMs: 60_000, maxInterruptions: 2, alsoDead: [`p-${i}`] });
          assert.deepEqual([r.released, r.failed], i <= 2 ? [1, 0] : [0, 1], `interruption ${i}`);
        }
        const row = (await store.admin.getJob({ id: id! }))!;
        assert.equal(row.status, 'failed');
        assert.equal(row.interruptions, 3);
        assert.match(row.exception!, /Interrupted 3 times.*more than the 2 allowed/);
        assert.ok(row.failedAt);
      });

      test('two recoverers at once: each dead runtime is recovered exactly once', async () => {
        const ids: string[] = [];
        for (let i = 0; i < 6; i++) {
          ids.push(`race-${i}`);
          await store.registry.registerRuntime({ runtime: info(`race-${i}`) });
          await store.producer.enqueue({ jobs: [job({ queue: 'rrace' }), job({ queue: 'rrace' })] });
          await store.queue.claim({ owner: `race-${i}`, queues: ['rrace'], limit: 2 });
        }
        const [a, b] = await Promise.all([reopen(fx), reopen(fx)]);
        try {
          const reports = await Promise.all([a, b].map((s) => s.registry.recoverDeadRuntimes({ deadAfterMs: 60_000, maxInterruptions: 3, alsoDead: ids })));
          assert.deepEqual(reports.flatMap((r) => r.runtimes).sort(), ids);
          assert.equal(reports[0]!.released + reports[1]!.released, 12);
        } finally {
          await a.close();
          await b.close();
        }
      });

      test('the orphan sweep gives back jobs claimed by an owner that never registered, once as old as a dead heartbeat', async () => {
        await sweepEarlierOrphans();
        await store.registry.registerRuntime({ runtime: info('o-live') });
        const [id, live] = await store.producer.enqueue({ jobs: [job({ queue: 'orphan' }), job({ queue: 'orphan-live' })] });
        await store.queue.claim({ owner: 'ghost', queues: ['orphan'], limit: 1 });
        await store.queue.claim({ owner: 'o-live', queues: ['orphan-live'], limit: 1 });
        assert.deepEqual(await store.registry.sweepOrphans({ deadAfterMs: 60_000, maxInterruptions: 3 }), { released: 0, failed: 0 }, 'too recent');
        await sleep(250);
        await store.registry.heartbeat({ runtime: info('o-live'), stats, timeoutMs: 5_000 });
        assert.equal(
          (await store.registry.recoverDeadRuntimes({ deadAfterMs: 200, maxInterruptions: 3 })).released,
          0,
          'not a dead runtime: recovery leaves it to the sweep',
        );
        assert.deepEqual(await store.registry.sweepOrphans({ deadAfterMs: 200, maxInterruptions: 3 }), { released: 1, failed: 0 });
        assert.equal((await store.admin.getJob({ id: id! }))!.status, 'new');
        assert.equal((await store.admin.getJob({ id: live! }))!.owner, 'o-live', "a registered owner's job is not an orphan, however old its claim");
        assert.deepEqual(await store.registry.sweepOrphans({ deadAfterMs: 200, maxInterruptions: 3 }), { released: 0, failed: 0 }, 'once');
        await store.registry.deregisterRuntime({ id: 'o-live' });
      });

      test('an orphan interrupted more than maxInterruptions times is failed by the sweep', async () => {
        await sweepEarlierOrphans();
        const [id] = await store.producer.enqueue({ jobs: [job({ queue: 'orphan-poison', maxAttempts: 5 })] });
        for (let i = 1; i <= 2; i++) {
          await store.queue.claim({ owner: `ghost-${i}`, queues: ['orphan-poison'], limit: 1 });
          await sleep(30);
          const r = await store.registry.sweepOrphans({ deadAfterMs: 10, maxInterruptions: 1 });
          assert.deepEqual(r, i === 1 ? { released: 1, failed: 0 } : { released: 0, failed: 1 }, `interruption ${i}`);
        }
        const row = (await store.admin.getJob({ id: id! }))!;
        assert.equal(row.status, 'failed');
        assert.match(row.exception!, /Interrupted 2 times.*more than the 1 allowed/);
      });
    });

    describe('operations: failed jobs, pausing, throughput, pruning, leases', () => {
      /** Enqueues jobs on `queue`, claims them as `owner` and fails each with its own message. */
      async function failJobs(queue: string, handlers: string[], owner = 'ops'): Promise<number[]> {
        const ids = await store.producer.enqueue({ jobs: handlers.map((handler) => job({ queue, handler })) });
        const claimed = await store.queue.claim({ owner, queues: [queue], limit: ids.length });
        assert.equal(claimed.length, ids.length);
        for (const { id, token } of claimed) {
          await store.queue.record({ owner, results: [{ id, token, queue, outcome: 'failed', error: `Error: failed ${id}\n    at run (job.ts:1)` }] });
          await sleep(3); // distinct failure times, so "newest first" is well defined
        }
        return ids;
      }

      test('a claim returns when the job was due', async () => {
        const [id] = await store.producer.enqueue({ jobs: [job({ queue: 'due-at' })] });
        const [c] = await store.queue.claim({ owner: 'o', queues: ['due-at'], limit: 1 });
        assert.equal(c!.id, id);
        assert.equal(c!.scheduledAtMs, (await store.admin.getJob({ id: id! }))!.scheduledAt.getTime());
        assert.ok(Math.abs(c!.scheduledAtMs - Date.now()) < 5_000, 'by a clock that agrees with ours');
      });

      test('listFailed: filters by queue and handler, newest failure first, with the total', async () => {
        const [a1, a2, a3] = await failJobs('lf-a', ['Ok', 'mail/Send', 'Ok']);
        const [b1] = await failJobs('lf-b', ['Ok']);
        const all = await store.admin.listFailed({ queue: 'lf-a', limit: 10 });
        assert.equal(all.total, 3);
        assert.deepEqual(
          all.jobs.map((j) => j.id),
          [a3, a2, a1],
        );
        assert.equal(all.jobs[0]!.exception, `Error: failed ${a3}\n    at run (job.ts:1)`);
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
        const [r1, r2, r3] = await failJobs('rf', ['Ok', 'Ok', 'Ok']);
        const [waiting] = await store.producer.enqueue({ jobs: [job({ queue: 'rf' })] });
        assert.equal(await store.admin.retryFailed({ ids: [r1!, r3!, waiting!, 999_999_999] }), 2, 'only failed jobs count');
        for (const id of [r1!, r3!]) {
          const row = (await store.admin.getJob({ id }))!;
          assert.deepEqual([row.status, row.attempts, row.failedAt, row.owner], ['new', 0, null, null]);
          assert.equal(row.exception, `Error: failed ${id}\n    at run (job.ts:1)`);
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
        const xs = await failJobs('rq-x', ['A', 'B', 'A', 'A']);
        const [y1] = await failJobs('rq-y', ['A']);
        assert.equal(await store.admin.retryFailed({ queue: 'rq-x', handler: 'A' }), 3);
        assert.deepEqual(await Promise.all(xs.map(async (id) => (await store.admin.getJob({ id }))!.status)), ['new', 'failed', 'new', 'new']);
        assert.equal((await store.admin.getJob({ id: y1! }))!.status, 'failed');
        assert.equal(await store.admin.retryFailed({ queue: 'rq-x' }), 1);
        assert.equal(await store.admin.retryFailed({ queue: 'rq-x' }), 0);
      });

      test('deleteFailed: by ids (forget), by queue and age (flush)', async () => {
        const [d1, d2] = await failJobs('df', ['Ok', 'Ok']);
        const [waiting] = await store.producer.enqueue({ jobs: [job({ queue: 'df-waiting' })] });
        assert.equal(await store.admin.deleteFailed({ ids: [d1!, waiting!] }), 1);
        assert.equal(await store.admin.getJob({ id: d1! }), null);
        assert.equal((await store.admin.getJob({ id: d2! }))!.status, 'failed');
        assert.equal((await store.admin.getJob({ id: waiting! }))!.status, 'new', 'a job that is not failed is never deleted');
        await sleep(300);
        const [fresh] = await failJobs('df', ['Ok']);
        const [other] = await failJobs('df-other', ['Ok']);
        assert.equal(await store.admin.deleteFailed({ queue: 'df', olderThanMs: 250 }), 1, 'only the old one');
        assert.equal(await store.admin.getJob({ id: d2! }), null);
        assert.equal((await store.admin.getJob({ id: fresh! }))!.status, 'failed');
        assert.equal(await store.admin.deleteFailed({ queue: 'df' }), 1);
        assert.equal((await store.admin.getJob({ id: other! }))!.status, 'failed', 'another queue is untouched');
        assert.deepEqual(await store.admin.counts({ queues: ['df'] }), [], 'no job left on the queue');
      });

      test('bulk retry and delete go in batches and count every row', async () => {
        const n = 1_234;
        await store.producer.enqueue({ jobs: Array.from({ length: n }, () => job({ queue: 'bulk-failed' })) });
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
        const [p1, p2] = await store.producer.enqueue({ jobs: [job({ queue: 'pz' }), job({ queue: 'pz' })] });
        const [a1, a2] = await store.producer.enqueue({ jobs: [job({ queue: 'pa' }), job({ queue: 'pa' })] });
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
          jobs: [job({ queue: 'tp-a' }), job({ queue: 'tp-a' }), job({ queue: 'tp-a' }), job({ queue: 'tp-a' }), job({ queue: 'tp-b' })],
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
        const ids = await store.producer.enqueue({ jobs: Array.from({ length: 5 }, () => job({ queue: 'prune' })) });
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
        await sleep(300);
        const [young] = await store.producer.enqueue({ jobs: [job({ queue: 'prune' })] });
        const [youngClaim] = await store.queue.claim({ owner: 'pr', queues: ['prune'], limit: 1 });
        await store.queue.record({ owner: 'pr', results: [{ ...youngClaim!, queue: 'prune', outcome: 'completed' }], keepCompleted: true });
        const first = await store.admin.prune({ completedOlderThanMs: 250, failedOlderThanMs: null, batchSize: 2 });
        assert.ok(first.completed >= 3, `completed pruned: ${first.completed}`);
        assert.equal(first.failed, 0, 'failed rows are kept without a failed retention');
        for (const id of ids.slice(0, 3)) assert.equal(await store.admin.getJob({ id }), null);
        assert.equal((await store.admin.getJob({ id: young! }))!.status, 'completed', 'a row inside its retention stays');
        for (const id of ids.slice(3)) assert.equal((await store.admin.getJob({ id }))!.status, 'failed');
        const second = await store.admin.prune({ completedOlderThanMs: null, failedOlderThanMs: 250, batchSize: 1 });
        assert.ok(second.failed >= 2, `failed pruned: ${second.failed}`);
        for (const id of ids.slice(3)) assert.equal(await store.admin.getJob({ id }), null);
        assert.equal((await store.admin.getJob({ id: young! }))!.status, 'completed');
        assert.ok(
          (await store.admin.throughput({ sinceMs: 60_000 })).some((t) => t.queue === 'prune'),
          'counters outlive pruning',
        );
      });

      test('a lease has one holder at a time, renews, and passes on once expired', async () => {
        assert.equal(await store.registry.acquireLease({ name: 'pruner', owner: 'r1', ttlMs: 400 }), true);
        assert.equal(await store.registry.acquireLease({ name: 'pruner', owner: 'r2', ttlMs: 400 }), false);
        assert.equal(await store.registry.acquireLease({ name: 'other', owner: 'r2', ttlMs: 400 }), true, 'leases are by name');
        await sleep(250);
        assert.equal(await store.registry.acquireLease({ name: 'pruner', owner: 'r1', ttlMs: 400 }), true, 'renewed');
        await sleep(250);
        assert.equal(await store.registry.acquireLease({ name: 'pruner', owner: 'r2', ttlMs: 400 }), false, 'the renewal holds');
        await sleep(250);
        assert.equal(await store.registry.acquireLease({ name: 'pruner', owner: 'r2', ttlMs: 400 }), true, 'expired: taken over');
        assert.equal(await store.registry.acquireLease({ name: 'pruner', owner: 'r1', ttlMs: 400 }), false);
      });

      test('a lease given up by its holder passes on at once; given up by another, it stays', async () => {
        assert.equal(await store.registry.acquireLease({ name: 'handover', owner: 'r1', ttlMs: 60_000 }), true);
        await store.registry.releaseLease({ name: 'handover', owner: 'r2' });
        assert.equal(await store.registry.acquireLease({ name: 'handover', owner: 'r2', ttlMs: 60_000 }), false, 'not released by a non-holder');
        await store.registry.releaseLease({ name: 'handover', owner: 'r1' });
        assert.equal(await store.registry.acquireLease({ name: 'handover', owner: 'r2', ttlMs: 60_000 }), true, 'taken at once after its holder gave it up');
        assert.equal(await store.registry.acquireLease({ name: 'handover', owner: 'r1', ttlMs: 60_000 }), false);
      });
    });
  });
}

/** Claims and completes every due job, so a test starts from an empty queue set. */
async function drain(store: JobStore): Promise<void> {
  for (;;) {
    const jobs = await store.queue.claim({ owner: 'drain', queues: null, limit: 1000 });
    if (jobs.length === 0) return;
    await store.queue.record({ owner: 'drain', results: jobs.map((j) => ({ id: j.id, token: j.token, queue: j.queue, outcome: 'completed' as const })) });
  }
}

async function reopen(fx: StoreFixture): Promise<JobStore> {
  const { openStore } = await import('../src/stores/open-store.ts');
  return openStore(fx.url, { maxConnections: 1 });
}
