import { HandlerNotFoundError, PERMANENT_ERROR_NAMES } from '../errors.js';
import { isFinalFailure } from './thread-protocol.js';
import type { JobId, NewJob } from '../stores/store.js';

// One job run to its end in the caller, by the rules of the worker thread (workers/job-thread.ts)
// and the runtime: a fresh instance per run with `context` set, run() or execute(), a retry while
// attempts are left and the error is not permanent (failPermanently, ...), onSuccess after a
// success, onFailure once at the final failure, a throwing hook only a warning.
// What it does not do: wait for `delay` or `retryAfter` (the runs follow each other at once),
// enforce `timeout`, or isolate the job in a thread. The final error is thrown to the caller.

/** The part of a job class this needs (Job from job.ts fits, without this file importing it). */
export interface InlineJob {
  context?: unknown;
  run?(payload: unknown): unknown;
  execute?(payload: unknown): unknown;
  onSuccess?(payload: unknown): unknown;
  onFailure?(payload: unknown, error: Error): unknown;
}
export type InlineJobClass = new () => InlineJob;

/** A store that runs jobs instead of storing them; Job.dispatch hands it the class. */
export interface InlineRunner {
  runInline(params: { jobClass: InlineJobClass; jobs: NewJob[] }): Promise<JobId[]>;
}

export async function runToEnd(jobClass: InlineJobClass, row: NewJob, id: JobId, runtimeId: string): Promise<void> {
  if (typeof jobClass.prototype?.run !== 'function' && typeof jobClass.prototype?.execute !== 'function') {
    throw new HandlerNotFoundError(`Job class ${row.handler} has no run() (or execute()) method`);
  }
  for (let attempt = 1; ; attempt++) {
    // Parsed per run, as in a thread: the job gets a copy of what was dispatched, never the caller's objects.
    const payload: unknown = JSON.parse(row.payload);
    let job: InlineJob | undefined;
    try {
      job = new jobClass();
      job.context = { id, handler: row.handler, queue: row.queue, attempt, maxAttempts: row.maxAttempts, runtimeId };
      await (job.run ?? job.execute)!.call(job, payload);
    } catch (e) {
      const error = toError(e);
      if (!isFinalFailure({ attempts: attempt, maxAttempts: row.maxAttempts }, PERMANENT_ERROR_NAMES.has(error.name))) continue;
      if (job?.onFailure) await hook(() => job!.onFailure!(payload, error), 'onFailure', row.handler, id);
      throw error;
    }
    if (job.onSuccess) await hook(() => job!.onSuccess!(payload), 'onSuccess', row.handler, id);
    return;
  }
}

/** A failing hook does not change the job's outcome, as in the runtime; it is reported as a process warning. */
async function hook(fn: () => unknown, name: string, handler: string, id: JobId): Promise<void> {
  try {
    await fn();
  } catch (e) {
    process.emitWarning(`${name}() of job ${handler} #${id} threw: ${toError(e).message}`, { type: 'JobHookWarning' });
  }
}

function toError(e: unknown): Error {
  if (e instanceof Error) return e;
  // `throw 'text'` or a thrown object: keep what it said, as the worker thread does.
  let text: string;
  try {
    text = typeof e === 'string' ? e : `non-Error thrown: ${JSON.stringify(e) ?? String(e)}`;
  } catch {
    text = `non-Error thrown: ${String(e)}`;
  }
  return new Error(text);
}
