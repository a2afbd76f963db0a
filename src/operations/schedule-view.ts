import { CronTicks } from '../schedules/ticks.js';
import type { JobStore, ScheduleRecord } from '../stores/store.js';

// Schedules as operators see them (`jobs-runtime schedules`, `status`): each with its next tick
// by the store's clock and what became of its latest tick's job.

export interface ScheduleView {
  key: string;
  kind: 'static' | 'dynamic';
  cron: string;
  tz: string;
  misfire: 'skip' | 'once';
  handler: string;
  queue: string;
  /** Dynamic, or static and declared by a registered runtime: runtimes tick it. */
  active: boolean;
  declaredBy: string[];
  /** ISO 8601; null when inactive or the cron never fires again. */
  nextRunAt: string | null;
  lastRunAt: string | null;
  lastJobId: number | null;
  /** The latest tick's job now: its status, 'done' once its row is gone (completed jobs are deleted), null before the first. */
  lastOutcome: string | null;
}

export async function gatherSchedules(store: JobStore): Promise<{ nowMs: number; schedules: ScheduleView[] }> {
  const [{ nowMs }, records] = await Promise.all([store.registry.activeSchedules(), store.admin.listSchedules()]);
  const schedules: ScheduleView[] = [];
  for (const s of records) schedules.push(await view(store, s, nowMs));
  return { nowMs, schedules };
}

async function view(store: JobStore, s: ScheduleRecord, nowMs: number): Promise<ScheduleView> {
  const active = s.kind === 'dynamic' || s.declaredBy.length > 0;
  let next: number | null = null;
  try {
    next = active ? new CronTicks(s.cron, s.tz).next(nowMs) : null;
  } catch {
    next = null; // stored by another version, or a zone this Node lacks: the runtimes say so
  }
  let lastOutcome: string | null = null;
  if (s.lastJobId !== null) lastOutcome = (await store.admin.getJob({ id: s.lastJobId }))?.status ?? 'done';
  return {
    key: s.key,
    kind: s.kind,
    cron: s.cron,
    tz: s.tz,
    misfire: s.misfire,
    handler: s.job.handler,
    queue: s.job.queue,
    active,
    declaredBy: s.declaredBy,
    nextRunAt: next === null ? null : new Date(next).toISOString(),
    lastRunAt: s.lastTickAtMs === null ? null : new Date(s.lastTickAtMs).toISOString(),
    lastJobId: s.lastJobId,
    lastOutcome,
  };
}
