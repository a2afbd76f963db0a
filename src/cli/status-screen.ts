// `jobs-runtime status` as text (renderStatus) from a snapshot of the store (operations/status-snapshot.ts);
// the watch mode redraws the same text in place.
import { formatAge, formatBytes, formatTime, table } from './format.js';
import type { StatusSnapshot } from '../operations/status-snapshot.js';

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
    // A table shared with Lightpack: what PHP workers run now shows, and DONE/FAILED say whose they are.
    const php = s.queues.some((q) => q.php || (q.phpRunning ?? 0) > 0);
    out.push(
      php
        ? "Queues (jobs finished by jobs-runtime per last minute and hour; PHP: run by Lightpack's workers)"
        : 'Queues (finished jobs per last minute and hour)',
    );
    out.push(
      table(
        [
          'QUEUE',
          'WAITING',
          'DELAYED',
          'LIMITED',
          'PROCESSING',
          ...(php ? ['QUEUED (PHP)'] : []),
          'FAILED',
          'DONE/1M',
          'FAILED/1M',
          'DONE/1H',
          'FAILED/1H',
          'STATE',
        ],
        s.queues.map((q) => [
          q.queue,
          String(q.waiting),
          String(q.delayed),
          String(q.concurrencyLimited + q.rateLimited),
          String(q.processing),
          ...(php ? [String(q.phpRunning ?? 0)] : []),
          String(q.failed),
          String(q.completedLastMinute),
          String(q.failedLastMinute),
          String(q.completedLastHour),
          String(q.failedLastHour),
          q.php ? 'PHP' : q.paused ? 'PAUSED' : 'active',
        ]),
        '  ',
      ),
    );
  }
  out.push('');
  const { count, active, next } = s.schedules;
  out.push(
    count === 0
      ? 'Schedules: none'
      : `Schedules: ${count} (${active} active)${next ? `, next tick ${formatTime(new Date(next.at))} UTC (${next.key})` : ''}; \`jobs-runtime schedules\` lists them`,
  );
  return out.join('\n');
}
