import { JobWaitTimeoutError } from '../errors.js';
import type { JobId, JobOutcomeState } from '../stores/store.js';
import { type DelayInput, delayToMs } from '../values/duration.js';
import type { JsonValue } from '../values/json.js';
import { type OutcomeStoreOption, outcomeReader, parseResult, pause } from './outcome-source.js';

// waitFor(id): what became of a job, from any process or host, also for one that ended before
// the call: the store's kept outcome (written with the result, in its transaction), read by
// key. Polls, quickly at first (most awaited jobs are short), then every POLL_MAX_MS.

const POLL_FIRST_MS = 10;
const POLL_MAX_MS = 250;

export interface JobOutcome {
  status: 'completed' | 'failed';
  /** Runs it took, the last included. */
  attempts: number;
  /** Failed: the error text stored with the job (stack trace). */
  error?: string;
  /** Completed: the JSON value run() returned, when it returned one (and it was kept). */
  result?: JsonValue;
}

export interface WaitForOptions {
  /** How long to wait ('5 seconds', ms); default 30 seconds. */
  timeout?: DelayInput;
  /** The store to read (default: the one dispatches go to). */
  store?: OutcomeStoreOption;
}

export async function waitFor(id: JobId, options: WaitForOptions = {}): Promise<JobOutcome> {
  if (!Number.isSafeInteger(id) || id <= 0) throw new TypeError(`waitFor() expects a job id (a positive integer, as dispatch() returns), got ${String(id)}`);
  const timeoutMs = delayToMs(options.timeout ?? '30 seconds', 'waitFor timeout');
  const reader = await outcomeReader(options.store, 'waitFor()');
  const deadline = performance.now() + timeoutMs;
  for (let pollMs = POLL_FIRST_MS; ; pollMs = Math.min(POLL_MAX_MS, pollMs * 2)) {
    const seen = await reader.jobOutcome({ id });
    if (seen.final) {
      const e = seen.final;
      const result = parseResult(e.result) as JsonValue | undefined;
      return {
        status: e.kind === 'failed' ? 'failed' : 'completed',
        attempts: e.attempt,
        ...(e.kind === 'failed' && e.error !== null ? { error: e.error } : {}),
        ...(result !== undefined ? { result } : {}),
      };
    }
    const left = deadline - performance.now();
    if (left <= 0) throw timeoutError(id, timeoutMs, seen.state);
    await pause(Math.min(pollMs, left));
  }
}

function timeoutError(id: JobId, timeoutMs: number, state: JobOutcomeState['state']): JobWaitTimeoutError {
  const where = {
    waiting: 'it is still waiting (not run yet, delayed, or waiting for a retry)',
    running: 'it is still running',
    ended: 'it ended, but its outcome is not kept (runtimes keep outcomes for --keep-outcomes, default 1h; 0 turns them off)',
    unknown: 'no such job is known: never dispatched to this store, or it ended and its outcome was pruned or not kept (start --keep-outcomes)',
  }[state];
  return new JobWaitTimeoutError(`Job ${id} did not finish within ${formatWait(timeoutMs)}: ${where}`, id, state);
}

function formatWait(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${Math.round(ms / 100) / 10} s`;
}
