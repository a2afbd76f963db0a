// The thread pool's bookkeeping of where each task stands (TaskSlots), which the hard timeout
// relies on: it must hold for a runtime that lives for weeks and runs millions of jobs.
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { after, describe, test } from 'node:test';
import { Phase, TaskSlots } from '../src/execution/task-slots.ts';
// The built pool: its thread entry is the compiled workers/job-thread.js.
import { ThreadPool } from '../dist/src/runtime/thread-pool.js';

const POOL_JOBS = fileURLToPath(new URL('./fixtures/pool-jobs', import.meta.url));
const DAY_MS = 86_400_000;

describe('task slots', () => {
  test('elapsed time is right after 30 days of uptime (past 2^31 ms) and across the 2^32 wrap', () => {
    for (const uptimeDays of [0, 30, 49.7, 60, 400]) {
      const slots = new TaskSlots(TaskSlots.allocate(4).buffer, Date.now() - uptimeDays * DAY_MS);
      slots.mark(2, Phase.RUNNING);
      const { phase, forMs } = slots.read(2);
      assert.equal(phase, Phase.RUNNING, `after ${uptimeDays} days`);
      assert.ok(forMs >= 0 && forMs < 1_000, `after ${uptimeDays} days: in its phase for ${forMs} ms`);
    }
  });

  test('each slot keeps its own phase', () => {
    const slots = TaskSlots.allocate(3);
    slots.mark(0, Phase.LOADING);
    slots.mark(1, Phase.FINISHED);
    assert.deepEqual(
      [0, 1, 2].map((i) => slots.read(i).phase),
      [Phase.LOADING, Phase.FINISHED, Phase.QUEUED],
    );
  });
});

describe('thread pool', () => {
  const pool = new ThreadPool({ threads: 4, concurrency: 1, jobsDir: POOL_JOBS });
  after(() => pool.close());
  const task = (id: number, handler: string, payload: unknown = {}) => ({
    id,
    handler,
    queue: 'default',
    runtimeId: 'test',
    payload: JSON.stringify(payload),
    attempts: 1,
    maxAttempts: 1,
  });

  test('a long job times out even when 70,000 other jobs went through the pool meanwhile', { timeout: 60_000 }, async () => {
    const t0 = performance.now();
    // Timed when it settles, not when the waves are done (on a busy machine they take longer).
    const long = pool.run(task(1, 'Waits', { ms: 8_000 }), 4_000).then((r) => ({ r, ms: performance.now() - t0 }));
    // In waves, as the runtime hands them over (it keeps at most --batch jobs in the pool).
    for (let wave = 0; wave < 7; wave++) {
      const results = await Promise.all(Array.from({ length: 10_000 }, (_, i) => pool.run(task(10 + wave * 10_000 + i, 'Noop'), null)));
      assert.equal(results.filter((r) => r.ok).length, 10_000, `wave ${wave}: every no-op job completed`);
    }
    const { r, ms } = await long;
    assert.equal(r.ok, false, `the 8 s job was stopped by its 4 s limit (it ran ${Math.round(ms)} ms)`);
    assert.equal(r.skipped, undefined);
    if (!r.ok && !r.skipped) assert.equal(r.message, 'timed out after 4.0 s: its thread was terminated');
    assert.ok(ms < 7_500, `stopped after ${Math.round(ms)} ms`);
  });
});
