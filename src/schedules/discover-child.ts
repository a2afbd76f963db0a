import { useCompiledJobs } from '../execution/compiled-jobs.js';
import { listJobFiles } from '../execution/job-files.js';
import { loadJobClass, PRELOAD_WAIT_MS } from '../execution/job-loader.js';
import type { ScheduleDefinition } from '../stores/store.js';
import { checkStaticSchedules } from './definition.js';
import { IMPORTING_MARK, REPLY_MARK } from './discover.js';

// Run by the master as `node discover-child.js` with a DiscoverRequest on stdin; prints a
// DiscoverReply. It imports every job file and reads each class's `static schedule`, in a process
// of its own: the master never runs job code (a top-level side effect, an endless loop, a
// constructor), and this process ends once it has answered. It never opens a store.

export interface DiscoverRequest {
  jobsDir: string;
  /** Job file → compiled JavaScript, as the threads get it (none: tsx loads .ts files). */
  compiled?: Record<string, string>;
  /** Files not to import (an earlier reading found their import blocking). */
  skip?: string[];
}

export interface DiscoverReply {
  schedules: ScheduleDefinition[];
  /** Bad schedules: the runtime refuses to start, printing these. */
  invalid: string[];
  /** Job files that did not load: their schedules (if any) are not declared by this runtime. */
  unloaded: string[];
}

interface ScheduledClass {
  schedule?: unknown;
  new (): { toNewJob?: (payload: unknown, options?: object) => ScheduleDefinition['job'] };
}

/**
 * The file being imported, repeated every 500 ms while the event loop runs: an import that awaits
 * keeps it coming, one that blocks the loop (an endless loop at its top level) silences it, and
 * the master ends this process (discover.ts).
 */
let current: string | null = null;
setInterval(() => {
  if (current !== null) process.stdout.write(`${IMPORTING_MARK}${current}\n`);
}, 500).unref();

async function main(request: DiscoverRequest): Promise<DiscoverReply> {
  useCompiledJobs(request.compiled);
  const reply: DiscoverReply = { schedules: [], invalid: [], unloaded: [] };
  for (const { handler, file } of listJobFiles(request.jobsDir)) {
    if (request.skip?.includes(file)) continue;
    const where = `job class ${handler} (${file})`;
    current = file;
    process.stdout.write(`${IMPORTING_MARK}${file}\n`);
    let cls: ScheduledClass;
    try {
      cls = (await withinMs(loadJobClass(request.jobsDir, handler), PRELOAD_WAIT_MS, `${file} did not finish loading`)) as unknown as ScheduledClass;
    } catch (e) {
      reply.unloaded.push((e as Error).message);
      continue;
    }
    // Its own, not inherited: a subclass of a scheduled class does not tick twice.
    if (!Object.hasOwn(cls, 'schedule')) continue;
    try {
      for (const s of checkStaticSchedules(where, handler, cls.schedule)) {
        const instance = new cls();
        if (typeof instance.toNewJob !== 'function') throw new Error(`Invalid schedule of ${where}: the class does not extend Job from 'jobs-runtime'`);
        // The class's settings (queue, attempts, priority, unique…) as a dispatch builds them;
        // the stored handler is where the file was found, as `jobs-runtime dispatch` does.
        const job = { ...instance.toNewJob(s.payload), handler, delayMs: 0 };
        reply.schedules.push({ key: s.key, cron: s.cron, tz: s.tz, misfire: s.misfire, job });
      }
    } catch (e) {
      reply.invalid.push((e as Error).message);
    }
  }
  current = null;
  const seen = new Map<string, string>();
  for (const s of reply.schedules) {
    const other = seen.get(s.key);
    if (other) reply.invalid.push(`Schedule key '${s.key}' is declared by both ${other} and ${s.job.handler}: give one of them another key`);
    seen.set(s.key, s.job.handler);
  }
  return reply;
}

function withinMs<T>(p: Promise<T>, ms: number, why: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(why)), ms)));
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

let input = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (d: string) => (input += d));
process.stdin.on('end', () => {
  main(JSON.parse(input) as DiscoverRequest).then(
    (reply) => {
      process.stdout.write(REPLY_MARK + JSON.stringify(reply));
      process.exit(0); // a job file's timers or sockets must not keep this process
    },
    (e: unknown) => {
      process.stderr.write(`${(e as Error)?.stack ?? String(e)}\n`);
      process.exit(1);
    },
  );
});
