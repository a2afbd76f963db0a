// The Piscina thread entry: loads a job's class, runs it by run-one-job's rules, reports the
// outcome as plain data. It never touches a store: the master claims jobs and records results.
import { performance } from 'node:perf_hooks';
import { threadId, workerData } from 'node:worker_threads';
import { PERMANENT_ERROR_NAMES } from '../src/errors.js';
import { isFinalFailure, type JobTask, type JobTaskResult, type ThreadData, type ThreadInput, type ThreadReply } from '../src/execution/thread-protocol.js';
import { ALIVE_STAMP_MS, PreloadBoard } from '../src/execution/preload-board.js';
import { Phase, TaskSlots } from '../src/execution/task-slots.js';
import { loadJobClass, preloadJobClasses } from '../src/execution/job-loader.js';
import { useCompiledJobs } from '../src/execution/compiled-jobs.js';
import { runOneJob, toError, type RunnableJobClass } from '../src/execution/run-one-job.js';
import { resultText } from '../src/execution/job-result-value.js';
import { throwSite } from '../src/execution/throw-site.js';
import { resolveRetryAfter, retryDelayMs, type RetryAfterInput } from '../src/values/retry-policy.js';

const { jobsDir, stopFlag, slots: slotsBuffer, slotsEpoch, preload, preloadEpoch, keepResults } = workerData as ThreadData;
const stopping = new Int32Array(stopFlag);
const slots = new TaskSlots(slotsBuffer, slotsEpoch);
useCompiledJobs((workerData as ThreadData).compiledJobs);
const preloadBoard = new PreloadBoard(preload, preloadEpoch);
let preloadStarted = false;

/** One job, a batch of short jobs, or the warm-up (see ThreadInput). */
export default async function run(input: ThreadInput): Promise<ThreadReply> {
  // Every job file, in the background: tasks run meanwhile, and one whose class is still
  // loading waits for it only. Begun from a task, once the pool counts this thread as started.
  if (!preloadStarted) {
    preloadStarted = true;
    void preloadJobClasses(jobsDir, preloadWatch());
  }
  if ('warmUp' in input) return null;
  if (!('batch' in input)) return runTask(input);
  const results: Array<JobTaskResult | null> = [];
  for (const task of input.batch) {
    const result = await runTask(task);
    results.push(result);
    // Details travel only in this reply: send it now rather than behind (or lost with) a later job.
    if (result && !isPlainSuccess(result)) break;
  }
  return results;
}

/** Lets the master see which file the preload is importing, and whether this thread is frozen by it. */
function preloadWatch() {
  const entry = preloadBoard.entryFor(threadId);
  let stamps: NodeJS.Timeout | undefined;
  return {
    skip: (handler: string) => preloadBoard.isSkipped(handler),
    begin: (handler: string) => {
      preloadBoard.begin(entry, handler);
      stamps ??= setInterval(() => preloadBoard.stamp(entry), ALIVE_STAMP_MS).unref();
    },
    end: () => preloadBoard.end(entry),
    done: () => clearInterval(stamps),
  };
}

/** Null when it did not start: the runtime is stopping, or the master took it back for another thread. */
async function runTask(task: JobTask): Promise<JobTaskResult | null> {
  if (Atomics.load(stopping, 0) === 1) return null;
  const slot = task.startSlot;
  if (slot !== undefined && !slots.take(slot, threadId)) return null;
  const result = await runJob(task);
  if (slot !== undefined) {
    if (isPlainSuccess(result)) slots.succeed(slot, result.durationMs);
    else slots.mark(slot, Phase.FINISHED);
  }
  return result;
}

/** A success with nothing to tell but its run time (no warning, no result): the shared slot carries it. */
function isPlainSuccess(r: JobTaskResult): boolean {
  return r.ok && r.warnings.length === 0 && r.result === undefined;
}

function mark(task: JobTask, phase: Phase): void {
  if (task.startSlot !== undefined) slots.mark(task.startSlot, phase);
}

async function runJob(given: JobTask): Promise<JobTaskResult> {
  // First its code loads (once per thread), under a limit of its own (the slot says LOADING).
  let task = given;
  let JobClass: RunnableJobClass;
  try {
    JobClass = await loadJobClass(jobsDir, task.handler);
  } catch (e) {
    // Unknown handler, a file that fails to import: permanent (HandlerNotFoundError).
    const error = toError(e);
    const permanent = PERMANENT_ERROR_NAMES.has(error.name);
    return failure(error, permanent, isFinalFailure(task, permanent), [], 0);
  }
  // A row Lightpack dispatched (a PHP class taken over) has no attempts or retry settings: the class's apply.
  let fromClass: { retryAfterMs: number; retryPolicy: string | null } | null = null;
  if (task.settingsFromClass) {
    try {
      const probe = new JobClass() as { attempts?: unknown; retryAfter?: unknown };
      if (Number.isInteger(probe.attempts) && (probe.attempts as number) >= 1) task = { ...task, maxAttempts: probe.attempts as number };
      fromClass = resolveRetryAfter(task.handler, (probe.retryAfter ?? 'now') as RetryAfterInput, false);
    } catch (e) {
      return failure(toError(e), false, isFinalFailure(task, false), [], 0);
    }
  }
  // The job's --timeout and its reported duration count from here: its run, not its code's first load.
  mark(task, Phase.RUNNING);
  const started = performance.now();
  const context = {
    id: task.id,
    handler: task.handler,
    queue: task.queue,
    attempt: task.attempts,
    maxAttempts: task.maxAttempts,
    runtimeId: task.runtimeId,
    scheduledAt: new Date(task.scheduledAtMs),
  };
  const outcome = await runOneJob(JobClass, task.payload, context);
  const durationMs = performance.now() - started;
  const warnings = outcome.warnings.map((w) => `${w.hook}() threw: ${w.message}`);
  if (outcome.ok) {
    const kept = keepResults ? resultText(outcome.value) : null;
    if (kept && 'warning' in kept) warnings.push(kept.warning);
    return kept && 'json' in kept ? { ok: true, durationMs, warnings, result: kept.json } : { ok: true, durationMs, warnings };
  }
  const retryInMs = fromClass && !outcome.final ? retryDelayMs(fromClass, task.attempts, outcome.retryInMs ?? null) : outcome.retryInMs;
  const result: JobTaskResult = failure(outcome.error, outcome.permanent, outcome.final, warnings, durationMs, retryInMs);
  if (task.settingsFromClass && !result.ok && !result.skipped) result.maxAttempts = task.maxAttempts;
  return result;
}

function failure(error: Error, permanent: boolean, final: boolean, warnings: string[], durationMs: number, retryInMs?: number): JobTaskResult {
  const thrownAt = throwSite(error.stack);
  return {
    ok: false,
    durationMs,
    warnings,
    errorName: error.name,
    message: error.message,
    detail: error.stack ?? `${error.name}: ${error.message}`,
    ...(thrownAt ? { thrownAt } : {}),
    permanent,
    final,
    ...(retryInMs === undefined ? {} : { retryInMs }),
  };
}
