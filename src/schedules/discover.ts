import { fileURLToPath } from 'node:url';
import { InvalidInputError } from '../errors.js';
import { listJobFiles } from '../execution/job-files.js';
import { runJsonChild } from '../execution/json-child.js';
import type { ScheduleDefinition } from '../stores/store.js';
import type { DiscoverReply, DiscoverRequest } from './discover-child.js';

/** Job files may print on import: the child's reply follows the last of these. */
export const REPLY_MARK = '\n<<jobs-runtime:schedules>>';

// The master learns its job classes' static schedules from a child process that imports the job
// files (discover-child.ts): the master itself runs no job code.

const CHILD = fileURLToPath(new URL('./discover-child.js', import.meta.url));
/** A job file whose import blocks its thread for ever must not hold the start for ever either. */
const CHILD_LIMIT_MS = 60_000;

export interface StaticSchedules {
  schedules: ScheduleDefinition[];
  /** Warnings for the log: job files that did not load, so their schedules are not declared. */
  warnings: string[];
}

/** Throws InvalidInputError (naming class, field and value) when a class declares a bad schedule. */
export async function discoverStaticSchedules(jobsDir: string, compiled?: Record<string, string>): Promise<StaticSchedules> {
  if (listJobFiles(jobsDir).length === 0) return { schedules: [], warnings: [] };
  const reply = await runChild({ jobsDir, ...(compiled ? { compiled } : {}) });
  if (reply.invalid.length > 0) throw new InvalidInputError(reply.invalid.join('\n'));
  return {
    schedules: reply.schedules,
    warnings: reply.unloaded.map((m) => `${m} (its static schedule, if any, is not declared by this runtime)`),
  };
}

function runChild(request: DiscoverRequest): Promise<DiscoverReply> {
  return runJsonChild<DiscoverReply>(request, {
    script: CHILD,
    // A job file whose import never finishes must not hold the start for ever either.
    limitMs: CHILD_LIMIT_MS,
    what: "reading the job classes' static schedules",
    cwd: process.cwd(),
    replyMark: REPLY_MARK,
  });
}
