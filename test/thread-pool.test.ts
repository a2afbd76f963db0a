// The thread pool's bookkeeping of where each task stands (TaskSlots), which the hard timeout
// relies on: it must hold for a runtime that lives for weeks and runs millions of jobs.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { Phase, TaskSlots } from '../src/execution/task-slots.ts';
// The built pool: its thread entry is the compiled workers/job-thread.js.
import { ThreadPool } from '../dist/src/runtime/thread-pool.js';

const POOL_JOBS = fileURLToPath(new URL('./fixtures/pool-jobs', import.meta.url));
const FROZEN_PRELOAD_JOBS = fileURLToPath(new URL('./fixtures/frozen-preload-jobs', import.meta.url));
const BUSY_PRELOAD_JOBS = fileURLToPath(new URL('./fixtures/busy-preload-jobs', import.meta.url));
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

const task = (id: number, handler: string, payload: unknown = {}) => ({
  id,
  handler,
  queue: 'default',
  runtimeId: 'test',
  payload: JSON.stringify(payload),
  attempts: 1,
  maxAttempts: 1,
  scheduledAtMs: Date.now(),
});

describe('thread pool', () => {
  const pool = new ThreadPool({ threads: 4, concurrency: 1, jobsDir: POOL_JOBS });
  after(() => pool.close());

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

// The jobs of a batch run one after another on one thread: none may wait there behind a long
// one, lose its result with a dying thread, or run twice.
describe('thread pool batches', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pool-batches-'));
  const pool = new ThreadPool({ threads: 2, concurrency: 1, jobsDir: POOL_JOBS });
  after(async () => {
    await pool.close();
    rmSync(dir, { recursive: true, force: true });
  });
  let nextId = 1;
  /** Runs jobs handed over together (as the runtime does), each `Records` job writing to its own file. */
  const runRecords = (name: string, payloads: Array<{ ms?: number; exit?: boolean }>) => {
    const file = join(dir, `${name}.txt`);
    const ids = payloads.map(() => nextId++);
    const t0 = performance.now();
    const results = payloads.map((p, i) => pool.run(task(ids[i]!, 'Records', { file, ...p }), null).then((r) => ({ r, atMs: performance.now() - t0 })));
    const starts = () =>
      readFileSync(file, 'utf8')
        .trim()
        .split('\n')
        .map((line) => line.split(' ').map(Number) as [number, number]);
    return { ids, results: Promise.all(results), starts };
  };
  // Measured once, the handler's jobs share batches.
  before(async () => {
    await runRecords(
      'warm-up',
      Array.from({ length: 40 }, () => ({})),
    ).results;
  });

  test('a thread that dies in a batch fails only the job it was running; the others run once', { timeout: 30_000 }, async () => {
    const payloads = Array.from({ length: 200 }, (_, i) => (i === 60 ? { exit: true } : {}));
    const { ids, results, starts } = runRecords('dies', payloads);
    const settled = await results;
    const failed = settled.filter(({ r }) => !r.ok);
    assert.equal(failed.length, 1, 'one failed attempt');
    const r = failed[0]!.r;
    if (!r.ok && !r.skipped) assert.match(r.message, /^ended its worker thread with exit code 7/);
    assert.equal(settled.indexOf(failed[0]!), 60, 'the job that ended its thread');
    assert.equal(settled.filter(({ r }) => r.skipped).length, 0, 'none handed back unrun');
    const runs = starts().map(([id]) => id);
    assert.deepEqual(
      [...runs].sort((a, b) => a - b),
      ids,
      'every job ran exactly once',
    );
  });

  test('jobs behind a long one in its batch are taken back and start on another thread', { timeout: 30_000 }, async () => {
    // One handler for all, so the long job shares a batch with short ones.
    const payloads = [{}, {}, { ms: 2_000 }, ...Array.from({ length: 60 }, () => ({}))];
    const { ids, results, starts } = runRecords('long', payloads);
    const settled = await results;
    assert.ok(
      settled.every(({ r }) => r.ok),
      'every job succeeded',
    );
    const startOf = new Map(starts());
    const longStart = startOf.get(ids[2]!)!;
    const lateStarts = ids.slice(3).map((id) => startOf.get(id)! - longStart);
    assert.ok(
      Math.max(...lateStarts) < 1_000,
      `the short jobs after the long one started within ${Math.round(Math.max(...lateStarts))} ms of it, not after it`,
    );
    const shortDone = settled.filter((_, i) => i !== 2).map(({ atMs }) => atMs);
    assert.ok(Math.max(...shortDone) < 1_500, `every short job's result came back within ${Math.round(Math.max(...shortDone))} ms, before the long one ended`);
    assert.equal(starts().length, payloads.length, 'each job started once');
  });
});

describe('thread pool preload', () => {
  test('a job file that freezes its thread when imported makes only its own jobs fail', { timeout: 60_000 }, async () => {
    const pool = new ThreadPool({ threads: 2, concurrency: 1, jobsDir: FROZEN_PRELOAD_JOBS, loadLimitMs: 2_000 });
    try {
      const good = await Promise.all(Array.from({ length: 20 }, (_, i) => pool.run(task(i + 1, 'Good'), null)));
      assert.equal(good.filter((r) => r.ok).length, 20, 'every good job ran although every thread first froze importing Freezes.js');
      const frozen = await pool.run(task(100, 'Freezes'), null);
      assert.equal(frozen.ok, false);
      if (!frozen.ok && !frozen.skipped) assert.equal(frozen.message, 'timed out loading its code after 2.0 s: its thread was terminated');
      const after = await Promise.all(Array.from({ length: 10 }, (_, i) => pool.run(task(200 + i, 'Good'), null)));
      assert.equal(after.filter((r) => r.ok).length, 10, 'good jobs still run afterwards');
    } finally {
      await pool.close();
    }
  });

  test('a job that blocks its thread while the preload waits on a slow file is not taken for a frozen import', { timeout: 60_000 }, async () => {
    const pool = new ThreadPool({ threads: 1, concurrency: 1, jobsDir: BUSY_PRELOAD_JOBS });
    try {
      const r = await pool.run(task(1, 'Blocks', { ms: 3_000 }), null);
      assert.equal(r.ok, true, `the 3 s of synchronous work completed: ${JSON.stringify(r)}`);
      assert.equal((await pool.run(task(2, 'Aslow'), null)).ok, true, 'the slow file was not skipped either');
    } finally {
      await pool.close();
    }
  });
});
