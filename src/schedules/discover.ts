import { fileURLToPath } from 'node:url';
import { InvalidInputError } from '../errors.js';
import { listJobFiles } from '../execution/job-files.js';
import { ChildStuckError, runJsonChild } from '../execution/json-child.js';
import type { ScheduleDefinition } from '../stores/store.js';
import type { DiscoverReply, DiscoverRequest } from './discover-child.js';

/** Job files may print on import: the child's reply follows the last of these. */
export const REPLY_MARK = '\n<<jobs-runtime:schedules>>';
/** Printed by the child before it imports each file: a file whose import blocks is found by its silence. */
export const IMPORTING_MARK = '\n<<jobs-runtime:importing>>';
/**
 * Silence after which the file being imported is taken for blocked (an endless loop at its top
 * level stops the child's event loop, so no timer of its own can fire). Like the threads' frozen
 * preload check (execution/preload-board.ts), it is a few seconds.
 */
const STUCK_IMPORT_MS = 3_000;

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
  // A file whose import blocks is skipped and the reading starts again without it, at most once per file.
  const skip: string[] = [];
  const blocked: string[] = [];
  for (;;) {
    try {
      const reply = await runChild({ jobsDir, ...(compiled ? { compiled } : {}), skip });
      if (reply.invalid.length > 0) throw new InvalidInputError(reply.invalid.join('\n'));
      return {
        schedules: reply.schedules,
        warnings: [...blocked, ...reply.unloaded].map((m) => `${m} (its static schedule, if any, is not declared by this runtime)`),
      };
    } catch (e) {
      if (!(e instanceof ChildStuckError) || skip.includes(e.step) || skip.length >= listJobFiles(jobsDir).length) throw e;
      skip.push(e.step);
      blocked.push(`Job file ${e.step} blocked its thread for ${STUCK_IMPORT_MS / 1000} s while it was imported`);
    }
  }
}

function runChild(request: DiscoverRequest): Promise<DiscoverReply> {
  return runJsonChild<DiscoverReply>(request, {
    script: CHILD,
    // A job file whose import never finishes must not hold the start for ever either.
    limitMs: CHILD_LIMIT_MS,
    what: "reading the job classes' static schedules",
    cwd: process.cwd(),
    replyMark: REPLY_MARK,
    progressMark: IMPORTING_MARK,
    silenceLimitMs: STUCK_IMPORT_MS,
  });
}
