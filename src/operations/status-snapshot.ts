import type { JobStore } from '../stores/store.js';
import { gatherSchedules } from './schedule-view.js';

// What operators see of the runtimes and queues, read once from the store's Registry and Admin
// roles: drawn as text by `jobs-runtime status` (cli/status-screen.ts) and as a page by the
// dashboard.

/** A runtime silent this long is shown as dead, unless `status --dead-after` says otherwise (the runtime's default --dead-after). */
export const DEAD_AFTER_MS = 30_000;

export interface RuntimeView {
  id: string;
  host: string;
  pid: number;
  /** Null = all queues. */
  queues: string[] | null;
  threads: number;
  /** Job slots: threads × concurrency. */
  slots: number;
  /** Busy job slots (the name predates slots: it never counted threads). */
  busyThreads: number;
  cpuPercent: number;
  rssBytes: number;
  uptimeMs: number;
  jobsDone: number;
  jobsFailed: number;
  lastHeartbeatMsAgo: number;
  /** Silent for more than the snapshot's deadAfterMs and not yet recovered by a peer. */
  dead: boolean;
}

export interface QueueView {
  queue: string;
  waiting: number;
  delayed: number;
  /** Of waiting: held back by a full concurrency key (blocked until a slot frees). */
  concurrencyLimited: number;
  /** Of delayed: deferred by a rate limit to its key's next window. */
  rateLimited: number;
  processing: number;
  failed: number;
  paused: boolean;
  /** Jobs Lightpack's PHP workers are running now (status 'queued'), in none of the counts above; absent when 0. */
  phpRunning?: number;
  /** A queue Lightpack's PHP workers run (lightpack.queues): no runtime claims it. Absent otherwise. */
  php?: true;
  completedLastMinute: number;
  failedLastMinute: number;
  completedLastHour: number;
  failedLastHour: number;
}

export interface StatusSnapshot {
  store: string;
  /** When it was read (this host's clock), ISO 8601. */
  at: string;
  /** Silence after which a runtime is shown as dead (peers recover it after their own --dead-after). */
  deadAfterMs: number;
  runtimes: RuntimeView[];
  queues: QueueView[];
  /** Schedules in the store; `active` ones are ticked; `next` is the nearest tick of an active one. */
  schedules: { count: number; active: number; next: { key: string; at: string } | null };
}

export async function gatherStatus(store: JobStore, deadAfterMs = DEAD_AFTER_MS, phpQueues: string[] = []): Promise<StatusSnapshot> {
  const runtimes = await store.registry.listRuntimes({});
  const counts = await store.admin.counts({});
  const paused = new Set((await store.admin.listPausedQueues({})).map((p) => p.queue));
  const lastMinute = new Map((await store.admin.throughput({ sinceMs: 60_000 })).map((t) => [t.queue, t]));
  const lastHour = new Map((await store.admin.throughput({ sinceMs: 3_600_000 })).map((t) => [t.queue, t]));
  // A queue shows while it has jobs, is paused, or finished jobs in the last hour (its rows may be gone).
  const names = [...new Set([...counts.map((c) => c.queue), ...paused, ...lastHour.keys(), ...phpQueues])].sort();
  const byName = new Map(counts.map((c) => [c.queue, c]));
  const sched = (await gatherSchedules(store)).schedules;
  const upcoming = sched.filter((s) => s.nextRunAt !== null).sort((a, b) => a.nextRunAt!.localeCompare(b.nextRunAt!))[0];
  return {
    schedules: {
      count: sched.length,
      active: sched.filter((s) => s.active).length,
      next: upcoming ? { key: upcoming.key, at: upcoming.nextRunAt! } : null,
    },
    store: store.displayUrl,
    at: new Date().toISOString(),
    deadAfterMs,
    runtimes: runtimes.map((r) => ({
      id: r.id,
      host: r.host,
      pid: r.pid,
      queues: r.queues,
      threads: r.threads,
      slots: r.slots,
      busyThreads: r.busyThreads,
      cpuPercent: r.cpuPercent,
      rssBytes: r.rssBytes,
      // Both ends by the store's clock: hosts whose clocks differ still agree.
      uptimeMs: r.heartbeatAt.getTime() - r.startedAt.getTime() + r.silentForMs,
      jobsDone: r.jobsDone,
      jobsFailed: r.jobsFailed,
      lastHeartbeatMsAgo: r.silentForMs,
      dead: r.silentForMs > deadAfterMs,
    })),
    queues: names.map((queue) => {
      const c = byName.get(queue);
      return {
        queue,
        waiting: c?.waiting ?? 0,
        delayed: c?.delayed ?? 0,
        concurrencyLimited: c?.concurrencyLimited ?? 0,
        rateLimited: c?.rateLimited ?? 0,
        processing: c?.processing ?? 0,
        failed: c?.failed ?? 0,
        paused: paused.has(queue),
        // Only on tables shared with Lightpack: snapshots of others read as before.
        ...(c?.heldElsewhere ? { phpRunning: c.heldElsewhere } : {}),
        ...(phpQueues.includes(queue) ? { php: true as const } : {}),
        completedLastMinute: lastMinute.get(queue)?.completed ?? 0,
        failedLastMinute: lastMinute.get(queue)?.failed ?? 0,
        completedLastHour: lastHour.get(queue)?.completed ?? 0,
        failedLastHour: lastHour.get(queue)?.failed ?? 0,
      };
    }),
  };
}
