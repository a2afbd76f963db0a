// The Piscina thread entry: loads a job's class, runs it by run-one-job's rules, reports the
// outcome as plain data. It never touches a store: the master claims jobs and records results.
import { performance } from 'node:perf_hooks';
import { workerData } from 'node:worker_threads';
import { PERMANENT_ERROR_NAMES } from '../src/errors.js';
import { isFinalFailure, type JobTask, type JobTaskResult, type ThreadData } from '../src/execution/thread-protocol.js';
import { Phase, TaskSlots } from '../src/execution/task-slots.js';
import { loadJobClass, preloadJobClasses } from '../src/execution/job-loader.js';
import { useCompiledJobs } from '../src/execution/compiled-jobs.js';
import { runOneJob, toError, type RunnableJobClass } from '../src/execution/run-one-job.js';

const { jobsDir, stopFlag, slots: slotsBuffer, slotsEpoch } = workerData as ThreadData;
const stopping = new Int32Array(stopFlag);
const slots = new TaskSlots(slotsBuffer, slotsEpoch);
useCompiledJobs((workerData as ThreadData).compiledJobs);
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
  // First its code loads (once per thread), under a limit of its own.
  mark(task, Phase.LOADING);
  let JobClass: RunnableJobClass;
  try {
    JobClass = await loadJobClass(jobsDir, task.handler);
  } catch (e) {
    // Unknown handler, a file that fails to import: permanent (HandlerNotFoundError).
    const error = toError(e);
    const permanent = PERMANENT_ERROR_NAMES.has(error.name);
    return failure(error, permanent, isFinalFailure(task, permanent), [], 0);
  }
  // The job's --timeout and its reported duration count from here: its run, not its code's first load.
  mark(task, Phase.RUNNING);
  const started = performance.now();
  const context = { id: task.id, handler: task.handler, queue: task.queue, attempt: task.attempts, maxAttempts: task.maxAttempts, runtimeId: task.runtimeId };
  const outcome = await runOneJob(JobClass, task.payload, context);
  const durationMs = performance.now() - started;
  const warnings = outcome.warnings.map((w) => `${w.hook}() threw: ${w.message}`);
  if (outcome.ok) return { ok: true, durationMs, warnings };
  return failure(outcome.error, outcome.permanent, outcome.final, warnings, durationMs);
}

function failure(error: Error, permanent: boolean, final: boolean, warnings: string[], durationMs: number): JobTaskResult {
  return {
    ok: false,
    durationMs,
    warnings,
    errorName: error.name,
    message: error.message,
    detail: error.stack ?? `${error.name}: ${error.message}`,
    permanent,
    final,
  };
}
