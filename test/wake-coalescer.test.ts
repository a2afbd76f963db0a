// What a flood of wake-up signals (datagrams, PUBLISHes) can cost a runtime: each wake-up is a
// claim, so the coalescer lets a short burst through and then at most one per WAKE_MIN_GAP_MS,
// and never drops the last one (a dispatch is never missed, only deferred by up to one gap).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { WAKE_MIN_GAP_MS, WakeCoalescer } from '../src/wake/wake-coalescer.ts';
import { waitFor } from './helpers/wait.ts';

describe('wake-up coalescing', () => {
  test('100,000 signals over about half a second cost a burst and one claim per gap, and the last is not lost', async () => {
    let wakes = 0;
    let lastWakeAt = 0;
    const c = new WakeCoalescer(() => {
      wakes++;
      lastWakeAt = performance.now();
    });
    const t0 = performance.now();
    let lastSignalAt = 0;
    for (let round = 0; round < 100; round++) {
      for (let i = 0; i < 1_000; i++) c.signal();
      lastSignalAt = performance.now();
      await new Promise((r) => setTimeout(r, 5));
    }
    await waitFor('the deferred wake-up after the last signal', () => lastWakeAt >= lastSignalAt, 1_000, 2);
    const elapsed = performance.now() - t0;
    const bound = 5 + Math.ceil(elapsed / WAKE_MIN_GAP_MS) + 1;
    assert.ok(wakes <= bound, `${wakes} wake-ups in ${Math.round(elapsed)} ms (bound ${bound})`);
    assert.ok(wakes >= Math.floor(elapsed / WAKE_MIN_GAP_MS) - 2, `${wakes} wake-ups: the flood is slowed, not shut out`);
    c.close();
  });

  test('a burst of dispatches whose claims find jobs is never held back; a wake-up deferred meanwhile goes at the next find', () => {
    let wakes = 0;
    const c = new WakeCoalescer(() => wakes++);
    // 50 dispatches within a millisecond, each woken claim finding its job.
    for (let i = 1; i <= 50; i++) {
      c.signal();
      assert.equal(wakes, i, `dispatch ${i} woken at once`);
      c.refund();
    }
    // Signals that find nothing spend the budget; the one deferred then goes once a claim finds jobs.
    for (let i = 0; i < 10; i++) c.signal();
    const before = wakes;
    c.refund();
    assert.equal(wakes, before + 1, 'the deferred wake-up went at the refund');
    c.close();
  });

  test('signals further apart than the gap each wake at once', async () => {
    let wakes = 0;
    const c = new WakeCoalescer(() => wakes++);
    for (let i = 1; i <= 3; i++) {
      c.signal();
      assert.equal(wakes, i, 'woken synchronously');
      await new Promise((r) => setTimeout(r, WAKE_MIN_GAP_MS * 2));
    }
    c.close();
  });
});
