// Recurring schedules on every store (issue 16): dynamic and static definitions, declarations
// by runtimes, and a tick that enqueues exactly one job however many store connections race.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import type { JobStore, ScheduleDefinition } from '../src/stores/store.ts';
import { describeEachStore, reopen } from './helpers/conformance.ts';
import { jobRow } from './helpers/job-rows.ts';
import type { StoreFixture } from './helpers/stores.ts';

describeEachStore('schedules', (fixture) => {
  let fx: StoreFixture;
  let store: JobStore;
  before(() => {
    fx = fixture();
    store = fx.store;
  });
  const info = (id: string) => ({ id, host: 'h', pid: 1, queues: null, threads: 1 });
  const def = (key: string, fields: Partial<ScheduleDefinition> = {}): ScheduleDefinition => ({
    key,
    cron: '*/5 * * * *',
    tz: 'UTC',
    misfire: 'skip',
    job: jobRow({ handler: 'Report', queue: `q-${key}`, payload: { key } }),
    ...fields,
  });
  const listed = async (key: string) => (await store.admin.listSchedules({})).find((s) => s.key === key);
  const active = async (key: string) => (await store.registry.activeSchedules({})).schedules.find((s) => s.key === key);

  test('a dynamic schedule is saved, replaced and removed', async () => {
    await store.producer.saveSchedule({ schedule: def('dyn', { tz: 'Europe/Paris' }) });
    const saved = (await listed('dyn'))!;
    assert.deepEqual(
      { kind: saved.kind, cron: saved.cron, tz: saved.tz, misfire: saved.misfire, last: saved.lastTickAtMs, by: saved.declaredBy },
      { kind: 'dynamic', cron: '*/5 * * * *', tz: 'Europe/Paris', misfire: 'skip', last: null, by: [] },
    );
    assert.equal(saved.job.handler, 'Report');
    assert.equal(JSON.parse(saved.job.payload).key, 'dyn');
    assert.ok(await active('dyn'), 'a dynamic schedule applies without any runtime');
    await store.producer.saveSchedule({ schedule: def('dyn', { cron: '0 * * * *', misfire: 'once' }) });
    const replaced = (await listed('dyn'))!;
    assert.deepEqual([replaced.cron, replaced.tz, replaced.misfire], ['0 * * * *', 'UTC', 'once']);
    assert.equal(await store.producer.removeSchedule({ key: 'dyn' }), true);
    assert.equal(await listed('dyn'), undefined);
    assert.equal(await store.producer.removeSchedule({ key: 'dyn' }), false);
  });

  test('a static schedule applies while a registered runtime declares it, and stays listed after', async () => {
    await store.registry.registerRuntime({ runtime: info('st-a') });
    await store.registry.registerRuntime({ runtime: info('st-b') });
    await store.registry.declareSchedules({ runtimeId: 'st-a', schedules: [def('nightly')] });
    await store.registry.declareSchedules({ runtimeId: 'st-b', schedules: [def('nightly')] });
    assert.deepEqual((await active('nightly'))?.declaredBy, ['st-a', 'st-b']);
    await store.registry.deregisterRuntime({ id: 'st-a' });
    assert.deepEqual((await active('nightly'))?.declaredBy, ['st-b'], 'one runtime left declares it');
    await store.registry.deregisterRuntime({ id: 'st-b' });
    assert.equal(await active('nightly'), undefined, 'no runtime declares it: it stops');
    const kept = (await listed('nightly'))!;
    assert.deepEqual([kept.kind, kept.declaredBy], ['static', []]);
    // The static schedule keeps its key: the application may neither replace nor remove it.
    await assert.rejects(store.producer.saveSchedule({ schedule: def('nightly') }), { name: 'InvalidInputError', message: /static schedule/ });
    assert.equal(await store.producer.removeSchedule({ key: 'nightly' }), false);
    assert.equal((await listed('nightly'))?.kind, 'static');
  });

  test("a runtime's new declaration replaces its old one; a dynamic key refuses a static declaration", async () => {
    await store.registry.registerRuntime({ runtime: info('re-a') });
    await store.registry.declareSchedules({ runtimeId: 're-a', schedules: [def('re-1'), def('re-2')] });
    await store.registry.declareSchedules({ runtimeId: 're-a', schedules: [def('re-2', { cron: '1 * * * *' })] });
    assert.equal(await active('re-1'), undefined);
    assert.equal((await active('re-2'))?.cron, '1 * * * *', 'the latest declaration wins');
    await store.producer.saveSchedule({ schedule: def('re-dyn') });
    await assert.rejects(store.registry.declareSchedules({ runtimeId: 're-a', schedules: [def('re-3'), def('re-dyn')] }), {
      name: 'InvalidInputError',
      message: /dynamic schedule/,
    });
    assert.equal(await listed('re-3'), undefined, 'a refused declaration writes nothing');
    assert.equal((await listed('re-dyn'))?.kind, 'dynamic');
    await store.registry.deregisterRuntime({ id: 're-a' });
  });

  test('the same tick from 8 store connections enqueues one job, due at the tick; all get its id', async () => {
    await store.producer.saveSchedule({ schedule: def('race') });
    const { nowMs } = await store.registry.activeSchedules({});
    const tickAtMs = nowMs - 1_000;
    const others = await Promise.all(Array.from({ length: 8 }, () => reopen(fx)));
    try {
      const job = jobRow({ handler: 'Report', queue: 'q-race' });
      const outcomes = await Promise.all(others.map((s) => s.registry.enqueueTick({ key: 'race', tickAtMs, job })));
      assert.equal(outcomes.filter((o) => o.enqueued).length, 1, JSON.stringify(outcomes));
      assert.equal(new Set(outcomes.map((o) => o.id)).size, 1);
      const id = outcomes[0]!.id!;
      assert.deepEqual(await store.registry.enqueueTick({ key: 'race', tickAtMs, job }), { id, enqueued: false });
      const claimed = await store.queue.claim({ owner: 'race-owner', queues: ['q-race'], limit: 10 });
      assert.deepEqual(
        claimed.map((c) => [c.id, c.scheduledAtMs]),
        [[id, tickAtMs]],
      );
      const s = (await listed('race'))!;
      assert.deepEqual([s.lastTickAtMs, s.lastJobId], [tickAtMs, id]);
    } finally {
      await Promise.all(others.map((s) => s.close()));
    }
  });

  test('the last tick moves forward only; a removed schedule enqueues nothing', async () => {
    await store.producer.saveSchedule({ schedule: def('fwd') });
    const { nowMs } = await store.registry.activeSchedules({});
    const job = jobRow({ handler: 'Report', queue: 'q-fwd' });
    const later = await store.registry.enqueueTick({ key: 'fwd', tickAtMs: nowMs - 1_000, job });
    const earlier = await store.registry.enqueueTick({ key: 'fwd', tickAtMs: nowMs - 5_000, job });
    assert.ok(later.enqueued && earlier.enqueued, 'two ticks, two jobs');
    assert.notEqual(later.id, earlier.id);
    const s = (await listed('fwd'))!;
    assert.deepEqual([s.lastTickAtMs, s.lastJobId], [nowMs - 1_000, later.id]);
    await store.producer.removeSchedule({ key: 'fwd' });
    assert.deepEqual(await store.registry.enqueueTick({ key: 'fwd', tickAtMs: nowMs, job }), { id: null, enqueued: false });
  });

  test('recovering a dead runtime drops its declarations', async () => {
    await store.registry.registerRuntime({ runtime: info('rc-dead') });
    await store.registry.registerRuntime({ runtime: info('rc-live') });
    await store.registry.declareSchedules({ runtimeId: 'rc-dead', schedules: [def('rc-only'), def('rc-both')] });
    await store.registry.declareSchedules({ runtimeId: 'rc-live', schedules: [def('rc-both')] });
    await fx.backdate.heartbeat('rc-dead', 60_000);
    const report = await store.registry.recoverDeadRuntimes({ deadAfterMs: 30_000, maxInterruptions: 3 });
    assert.deepEqual(report.runtimes, ['rc-dead']);
    assert.equal(await active('rc-only'), undefined);
    assert.deepEqual((await active('rc-both'))?.declaredBy, ['rc-live']);
    // Registered again (its next heartbeat), it does not declare anything until it says so.
    await store.registry.registerRuntime({ runtime: info('rc-dead') });
    assert.equal(await active('rc-only'), undefined);
    await store.registry.deregisterRuntime({ id: 'rc-dead' });
    await store.registry.deregisterRuntime({ id: 'rc-live' });
  });

  test('an undeclared static schedule can be removed, freeing its key; a declared one cannot', async () => {
    await store.registry.registerRuntime({ runtime: info('ud-a') });
    await store.registry.declareSchedules({ runtimeId: 'ud-a', schedules: [def('ud')] });
    const { nowMs } = await store.registry.activeSchedules({});
    await store.registry.enqueueTick({ key: 'ud', tickAtMs: nowMs - 1_000, job: def('ud').job });
    assert.deepEqual(await store.admin.removeUndeclaredSchedule({ key: 'ud' }), { removed: false, declaredBy: ['ud-a'] });
    assert.equal((await active('ud'))?.lastTickAtMs, nowMs - 1_000, 'refused: nothing changed');
    await store.registry.deregisterRuntime({ id: 'ud-a' });
    assert.deepEqual(await store.admin.removeUndeclaredSchedule({ key: 'ud' }), { removed: true, declaredBy: [] });
    assert.equal(await listed('ud'), undefined);
    assert.deepEqual(await store.admin.removeUndeclaredSchedule({ key: 'ud' }), { removed: false, declaredBy: [] });
    // A dynamic schedule is not this method's to remove.
    await store.producer.saveSchedule({ schedule: def('ud-dyn') });
    assert.deepEqual(await store.admin.removeUndeclaredSchedule({ key: 'ud-dyn' }), { removed: false, declaredBy: [] });
    assert.equal((await listed('ud-dyn'))?.kind, 'dynamic');
    // Declared again later, it starts afresh: no last tick.
    await store.registry.registerRuntime({ runtime: info('ud-b') });
    await store.registry.declareSchedules({ runtimeId: 'ud-b', schedules: [def('ud')] });
    assert.deepEqual([(await active('ud'))?.lastTickAtMs, (await active('ud'))?.declaredBy], [null, ['ud-b']]);
    await store.registry.deregisterRuntime({ id: 'ud-b' });
  });

  test('updatedAt moves when a definition changes, not when it is declared or saved again as it is', async () => {
    await store.registry.registerRuntime({ runtime: info('up-a') });
    await store.registry.declareSchedules({ runtimeId: 'up-a', schedules: [def('up-st')] });
    await store.producer.saveSchedule({ schedule: def('up-dyn') });
    const { nowMs } = await store.registry.activeSchedules({});
    for (const key of ['up-st', 'up-dyn']) await store.registry.enqueueTick({ key, tickAtMs: nowMs - 1_000, job: def(key).job });
    // An hour ago, so "moved" is far from the store clock's resolution.
    for (const key of ['up-st', 'up-dyn']) await fx.backdate.schedule(key, 3_600_000);
    const before = { st: (await listed('up-st'))!, dyn: (await listed('up-dyn'))! };
    await store.registry.registerRuntime({ runtime: info('up-b') });
    await store.registry.declareSchedules({ runtimeId: 'up-b', schedules: [def('up-st')] });
    await store.producer.saveSchedule({ schedule: def('up-dyn') });
    assert.equal((await listed('up-st'))!.updatedAt.getTime(), before.st.updatedAt.getTime(), 'a re-declaration changes nothing');
    assert.equal((await listed('up-dyn'))!.updatedAt.getTime(), before.dyn.updatedAt.getTime(), 'a re-save as it is changes nothing');
    await store.registry.declareSchedules({ runtimeId: 'up-b', schedules: [def('up-st', { cron: '*/7 * * * *' })] });
    await store.producer.saveSchedule({ schedule: def('up-dyn', { misfire: 'once' }) });
    for (const [key, was] of [
      ['up-st', before.st],
      ['up-dyn', before.dyn],
    ] as const) {
      const now = (await listed(key))!;
      assert.ok(now.updatedAt.getTime() >= nowMs - 1_000, `${key}: a change moves updatedAt to now (${now.updatedAt.toISOString()})`);
      assert.equal(now.lastTickAtMs, was.lastTickAtMs, `${key}: the last tick stays`);
    }
    await store.registry.deregisterRuntime({ id: 'up-a' });
    await store.registry.deregisterRuntime({ id: 'up-b' });
  });

  test("a tick's job with a unique key goes through the store's unique path", async () => {
    await store.producer.saveSchedule({ schedule: def('uniq') });
    const { nowMs } = await store.registry.activeSchedules({});
    const job = jobRow({ handler: 'Report', queue: 'q-uniq', priority: 5, unique: { key: 'daily', forMs: null, until: 'done', onConflict: 'skip' } });
    const first = await store.registry.enqueueTick({ key: 'uniq', tickAtMs: nowMs - 2_000, job });
    assert.equal(first.enqueued, true);
    // The next tick meets the standing job: nothing new, and the tick is recorded with its id.
    const second = await store.registry.enqueueTick({ key: 'uniq', tickAtMs: nowMs - 1_000, job });
    assert.deepEqual(second, { id: first.id, enqueued: false });
    assert.deepEqual(await store.registry.enqueueTick({ key: 'uniq', tickAtMs: nowMs - 1_000, job }), { id: first.id, enqueued: false });
    const claimed = await store.queue.claim({ owner: 'uniq-owner', queues: ['q-uniq'], limit: 10 });
    assert.deepEqual(
      claimed.map((c) => [c.id, c.priority]),
      [[first.id, 5]],
    );
    assert.equal((await listed('uniq'))?.lastTickAtMs, nowMs - 1_000);
  });
});
