import type { JobTaskResult } from '../execution/thread-protocol.js';
import type { ClaimedJob, JobResult } from '../stores/store.js';
import { capErrorText } from '../values/error-text.js';
import { retryDelayMs } from '../values/retry-policy.js';
import type { Logger } from './logger.js';
import type { RunSummary } from './runtime.js';

/** A run that ended (not one handed back unrun). */
export type FinishedRun = Exclude<JobTaskResult, { skipped: true }>;

/**
 * The result to store for a finished run, and what to do once the store has it: count it and
 * write its ✔ or ✖ line. A result the store refuses as stale is neither counted nor reported.
 */
export function outcomeOf(job: ClaimedJob, r: FinishedRun, log: Logger, summary: RunSummary): { result: JobResult; report: () => void } {
  // A PHP class taken over: its attempts are the Node class's, which the thread reports.
  const maxAttempts = (!r.ok && r.maxAttempts) || job.maxAttempts;
  const line = { id: job.id, handler: job.handler, queue: job.queue, attempts: job.attempts, maxAttempts, durationMs: r.durationMs };
  // attempt and durationMs are what an outcome event tells (read by record() only when it keeps them).
  const claim = {
    id: job.id,
    token: job.token,
    queue: job.queue,
    attempt: job.attempts,
    durationMs: Math.round(r.durationMs * 1000) / 1000,
    ...(!r.ok && r.maxAttempts ? { maxAttempts: r.maxAttempts } : {}),
  };
  let result: JobResult;
  let report: () => void;
  // Counted and reported once the store has the result: a result it refuses as stale is neither.
  if (r.ok) {
    result = { ...claim, outcome: 'completed', ...(r.result !== undefined ? { result: r.result } : {}) };
    report = () => {
      summary.completed++;
      log.jobCompleted(line, r.warnings);
    };
  } else if (r.final) {
    result = { ...claim, outcome: 'failed', error: capErrorText(r.detail) };
    report = () => {
      summary.failed++;
      log.jobFailed(line, r.message, null, r.warnings, r.thrownAt);
    };
  } else {
    // A taken-over PHP row: the thread already worked the class's wait out.
    const delayMs = r.maxAttempts !== undefined && r.retryInMs !== undefined ? r.retryInMs : retryDelayMs(job, job.attempts, r.retryInMs ?? null);
    result = { ...claim, outcome: 'retry', error: capErrorText(r.detail), delayMs };
    report = () => {
      summary.retried++;
      log.jobFailed(line, r.message, { retryInMs: delayMs }, r.warnings, r.thrownAt);
    };
  }
  return { result, report };
}

/** Results of claims a peer took over while this runtime was presumed dead: not applied, said once per write. */
export function reportDropped(log: Logger, results: JobResult[]): void {
  const ids = results.map((r) => r.id);
  log.warn(
    `Dropped ${results.length} result(s) of jobs a peer took over (${ids.length > 10 ? `${ids.slice(0, 10).join(', ')}, …` : ids.join(', ')}): ` +
      'this runtime was presumed dead and their claims given back, so their newer runs decide',
  );
}
