// The runtime's scheduler (src/runtime/scheduler.ts) on every store, in this process: a schedule
// whose definition changed starts from the change, so misfire 'once' makes no catch-up run for
// ticks of the new cron that fell before it; an unchanged one with the same history does make its
// one catch-up run. Time is a backdated history (an hour-old definition and last tick), not a wait.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import type { Logger } from '../src/runtime/logger.ts';
import { GRACE_MS, Scheduler, type TickCount } from '../src/runtime/scheduler.ts';
import type { JobStore, ScheduleDefinition } from '../src/stores/store.ts';
import { describeEachStore } from './helpers/conformance.ts';
import { jobRow } from './helpers/job-rows.ts';
import type { StoreFixture } from './helpers/stores.ts';
import { waitFor } from './helpers/wait.ts';

describeEachStore('scheduler: definition changes', (fixture) => {
  let fx: StoreFixture;
  let store: JobStore;
  before(() => {
    fx = fixture();
    store = fx.store;
  });
  const def = (key: string, cron: string): ScheduleDefinition => ({ key, cron, tz: 'UTC', misfire: 'once', job: jobRow({ queue: `q-${key}` }) });

  test("a changed cron with misfire 'once' starts from the change: no catch-up run; unchanged, one", async () => {
    // Both every second, both last ticked an hour ago. 'changed' was yearly until just now.
    await store.producer.saveSchedule({ schedule: def('steady', '* * * * * *') });
    await store.producer.saveSchedule({ schedule: def('changed', '0 0 1 1 *') });
    const { nowMs } = await store.registry.activeSchedules({});
    const lastTick = Math.floor(nowMs / 1000) * 1000 - 5_000; // an hour earlier once backdated
    for (const key of ['steady', 'changed']) {
      await store.registry.enqueueTick({ key, tickAtMs: lastTick, job: def(key, '').job });
      await fx.backdate.schedule(key, 3_600_000);
    }

    const ticks = new Map<string, number[]>([
      ['steady', []],
      ['changed', []],
    ]);
    const counts: Array<[string, TickCount]> = [];
    const logged: string[] = [];
    const log = { info: (m: string) => logged.push(m), warn: (m: string) => logged.push(m) } as unknown as Logger;
    const scheduler = new Scheduler({
      registry: store.registry,
      log,
      runtimeId: 'sched-test',
      schedules: [],
      onEnqueued: (key, tickAtMs) => ticks.get(key)?.push(tickAtMs),
      onTick: (key, outcome) => counts.push([key, outcome]),
    });
    const startedAt = (await store.registry.activeSchedules({})).nowMs;
    await scheduler.start();
    let changedAt = 0;
    try {
      // While the scheduler watches (as a running runtime would), 'changed' becomes every second.
      await waitFor('the first round (steady ticked)', () => ticks.get('steady')!.length > 0 || null, 10_000);
      await store.producer.saveSchedule({ schedule: def('changed', '* * * * * *') });
      changedAt = (await store.admin.listSchedules({})).find((s) => s.key === 'changed')!.updatedAt.getTime();
      assert.ok(changedAt > lastTick, 'the change is after the last tick');
      await waitFor('2 ticks of changed', () => ticks.get('changed')!.length >= 2 || null, 15_000);
    } finally {
      await scheduler.stop();
    }
    const steady = ticks.get('steady')!;
    const changed = ticks.get('changed')!;
    // Unchanged: one catch-up run for the hour of missed ticks (the latest of them), then on time:
    // one a second, never a burst.
    assert.ok(Math.abs(steady[0]! - startedAt) < GRACE_MS, `steady: the catch-up is the latest missed tick (${steady.join(', ')}; start ${startedAt})`);
    for (let i = 1; i < steady.length; i++) assert.equal(steady[i]! - steady[i - 1]!, 1000);
    assert.equal(logged.filter((l) => l.includes("'steady'") && l.includes('one catch-up run')).length, 1, logged.join('\n'));
    // Changed: its new ticks before the change were never due: none of them runs.
    assert.deepEqual(
      changed.filter((t) => t <= changedAt),
      [],
      `changed: nothing at or before the change (${changedAt}): ${changed.join(', ')}`,
    );
    assert.ok(changed.length >= 2);
    const misfired = (key: string) => counts.filter(([k, o]) => k === key && o === 'misfired').length;
    assert.deepEqual([misfired('steady'), misfired('changed')], [1, 0], logged.join('\n'));
    assert.equal(counts.filter(([k, o]) => k === 'steady' && o === 'enqueued').length, steady.length);
  });
});
