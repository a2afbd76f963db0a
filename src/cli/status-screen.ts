import type { JobStore } from '../stores/store.js';
import { formatAge, formatBytes, formatTime, table } from './format.js';

// What `jobs-runtime status` shows: read once from the store (gatherStatus), drawn as text
// (renderStatus). The watch mode redraws the same text in place.

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
  processing: number;
  failed: number;
  paused: boolean;
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
}

export async function gatherStatus(store: JobStore, deadAfterMs = DEAD_AFTER_MS): Promise<StatusSnapshot> {
  const runtimes = await store.registry.listRuntimes({});
  const counts = await store.admin.counts({});
  const paused = new Set((await store.admin.listPausedQueues({})).map((p) => p.queue));
  const lastMinute = new Map((await store.admin.throughput({ sinceMs: 60_000 })).map((t) => [t.queue, t]));
  const lastHour = new Map((await store.admin.throughput({ sinceMs: 3_600_000 })).map((t) => [t.queue, t]));
  // A queue shows while it has jobs, is paused, or finished jobs in the last hour (its rows may be gone).
  const names = [...new Set([...counts.map((c) => c.queue), ...paused, ...lastHour.keys()])].sort();
  const byName = new Map(counts.map((c) => [c.queue, c]));
  return {
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
        processing: c?.processing ?? 0,
        failed: c?.failed ?? 0,
        paused: paused.has(queue),
        completedLastMinute: lastMinute.get(queue)?.completed ?? 0,
        failedLastMinute: lastMinute.get(queue)?.failed ?? 0,
        completedLastHour: lastHour.get(queue)?.completed ?? 0,
        failedLastHour: lastHour.get(queue)?.failed ?? 0,
      };
    }),
  };
}

export function renderStatus(s: StatusSnapshot): string {
  const out: string[] = [`Store ${s.store} at ${formatTime(new Date(s.at))} UTC`, ''];
  const dead = s.runtimes.filter((r) => r.dead).length;
  if (s.runtimes.length === 0) out.push('Runtimes: none running');
  else {
    out.push(`Runtimes: ${s.runtimes.length - dead} live${dead ? `, ${dead} dead (silent > ${formatAge(s.deadAfterMs)}, not yet recovered)` : ''}`);
    out.push(
      table(
        ['HOST', 'PID', 'QUEUES', 'BUSY/SLOTS', 'THREADS', 'CPU', 'RSS', 'UPTIME', 'DONE', 'FAILED', 'HEARTBEAT', 'STATE'],
        s.runtimes.map((r) => [
          r.host,
          String(r.pid),
          r.queues ? r.queues.join(' > ') : 'all',
          `${r.busyThreads}/${r.slots}`,
          // threads × concurrency, when the slots say so (a runtime of an older version registered no slots)
          r.slots > r.threads && r.slots % r.threads === 0 ? `${r.threads}×${r.slots / r.threads}` : String(r.threads),
          `${r.cpuPercent.toFixed(1)}%`,
          formatBytes(r.rssBytes),
          formatAge(r.uptimeMs),
          String(r.jobsDone),
          String(r.jobsFailed),
          `${formatAge(r.lastHeartbeatMsAgo)} ago`,
          r.dead ? 'DEAD' : 'live',
        ]),
        '  ',
      ),
    );
  }
  out.push('');
  if (s.queues.length === 0) out.push('Queues: no jobs');
  else {
    out.push('Queues (finished jobs per last minute and hour)');
    out.push(
      table(
        ['QUEUE', 'WAITING', 'DELAYED', 'PROCESSING', 'FAILED', 'DONE/1M', 'FAILED/1M', 'DONE/1H', 'FAILED/1H', 'STATE'],
        s.queues.map((q) => [
          q.queue,
          String(q.waiting),
          String(q.delayed),
          String(q.processing),
          String(q.failed),
          String(q.completedLastMinute),
          String(q.failedLastMinute),
          String(q.completedLastHour),
          String(q.failedLastHour),
          q.paused ? 'PAUSED' : 'active',
        ]),
        '  ',
      ),
    );
  }
  return out.join('\n');
}
