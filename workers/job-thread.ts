// The Piscina thread entry: loads a job's class, runs one fresh instance, reports the outcome
// as plain data. It never touches a store: the master claims jobs and records results.
import { performance } from 'node:perf_hooks';
import { workerData } from 'node:worker_threads';
import { InvalidPayloadError, PERMANENT_ERROR_NAMES } from '../src/errors.js';
import { isFinalFailure, type JobTask, type JobTaskResult, type ThreadData } from '../src/execution/thread-protocol.js';
import { Phase, TaskSlots } from '../src/execution/task-slots.js';
import { loadJobClass, preloadJobClasses, type JobInstance } from '../src/execution/job-loader.js';

const { jobsDir, stopFlag, slots: slotsBuffer, slotsEpoch } = workerData as ThreadData;
const stopping = new Int32Array(stopFlag);
const slots = new TaskSlots(slotsBuffer, slotsEpoch);
// Every job file, TypeScript loader included, in the background: tasks run meanwhile, and one
// whose class is still loading waits for it only.
void preloadJobClasses(jobsDir);

/**
 * One job, or a batch of jobs run one after another: when many fast jobs wait, the master
 * sends them in batches, since a message per job would cost more than the jobs.
 */
export default async function run(input: JobTask | { batch: JobTask[] }): Promise<JobTaskResult | JobTaskResult[]> {
  if (!('batch' in input)) return finish(input, await runJob(input));
  const results: JobTaskResult[] = [];
  for (const task of input.batch) results.push(finish(task, await runJob(task)));
  return results;
}

/** Marks the task done in its slot: if the thread dies later in a batch, the master knows this one ran. */
function finish(task: JobTask, result: JobTaskResult): JobTaskResult {
  if (!result.skipped) mark(task, Phase.FINISHED);
  return result;
}

function mark(task: JobTask, phase: Phase): void {
  if (task.startSlot !== undefined) slots.mark(task.startSlot, phase);
}

async function runJob(task: JobTask): Promise<JobTaskResult> {
  // Queued before a shutdown began: hand it back unrun rather than start it now.
  if (Atomics.load(stopping, 0) === 1) return { ok: false, skipped: true, durationMs: 0, warnings: [] };
  // Timed from now, not from when it was queued: first its code loads, under a limit of its own.
  mark(task, Phase.LOADING);
  const started = performance.now();
  const warnings: string[] = [];
  let job: JobInstance | undefined;
  let payload: unknown;
  try {
    const JobClass = await loadJobClass(jobsDir, task.handler);
    // The job's --timeout counts from here: its run, not its code's first load.
    mark(task, Phase.RUNNING);
    payload = parsePayload(task.payload);
    job = new JobClass();
    job.context = {
      id: task.id,
      handler: task.handler,
      queue: task.queue,
      attempt: task.attempts,
      maxAttempts: task.maxAttempts,
      runtimeId: task.runtimeId,
    };
    const work = job.run ?? job.execute;
    await work!.call(job, payload);
  } catch (e) {
    const error = toError(e);
    const permanent = PERMANENT_ERROR_NAMES.has(error.name);
    if (job?.onFailure && isFinalFailure(task, permanent)) {
      await hook(() => job!.onFailure!(payload, error), 'onFailure', warnings);
    }
    return {
      ok: false,
      durationMs: performance.now() - started,
      warnings,
      errorName: error.name,
      message: error.message,
      detail: error.stack ?? `${error.name}: ${error.message}`,
      permanent,
    };
  }
  if (job.onSuccess) await hook(() => job!.onSuccess!(payload), 'onSuccess', warnings);
  return { ok: true, durationMs: performance.now() - started, warnings };
}

function parsePayload(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new InvalidPayloadError(`The job's payload in the store is not valid JSON (${(e as Error).message})`);
  }
}

/** A failing hook does not change the job's outcome; it is reported as a warning. */
async function hook(fn: () => unknown, name: string, warnings: string[]): Promise<void> {
  try {
    await fn();
  } catch (e) {
    warnings.push(`${name}() threw: ${toError(e).message}`);
  }
}

function toError(e: unknown): Error {
  if (e instanceof Error) return e;
  // `throw 'text'` or a thrown object: keep what it said.
  const err = new Error(typeof e === 'string' ? e : `non-Error thrown: ${safeString(e)}`);
  err.name = 'Error';
  return err;
}

function safeString(v: unknown): string {
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}
