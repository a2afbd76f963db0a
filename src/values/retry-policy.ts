import { InvalidInputError } from '../errors.js';
import { type DelayInput, delayToMs } from './duration.js';

// How long a failed job waits before its next attempt (`retryAfter`). A fixed wait is stored as
// the row's retry_after_ms, as before; the other forms are stored beside it as a small JSON
// policy the runtime reads when the job fails, so a job dispatched with a policy keeps it
// through every retry whatever the class later says. The wait is relative: the store adds it
// to its own clock.

export interface ExponentialBackoff {
  /** The first retry's wait; each later one doubles it. */
  exponential: DelayInput;
  /** Longest wait (default: none beyond the 96-year bound of every duration). */
  max?: DelayInput;
  /** Spread retries of jobs that failed together: each wait is drawn uniformly from [half of it, all of it]. */
  jitter?: boolean;
}

/** The function form gets the attempt that failed (1 for the first run) and its error. */
export type RetryAfterFunction = (attempt: number, error: Error) => DelayInput;

/**
 * A fixed wait ('30 seconds', ms), exponential backoff, a list (one wait per retry, the last
 * repeated) or, on the class only, a function.
 */
export type RetryAfterInput = DelayInput | readonly DelayInput[] | ExponentialBackoff | RetryAfterFunction;

/** What is stored (retry_policy): see retryDelayMs. */
type StoredPolicy = { exponential: number; max: number | null; jitter: boolean } | { list: number[] } | { fn: true };

export interface ResolvedRetryAfter {
  retryAfterMs: number;
  retryPolicy: string | null;
}

/** Validates a retryAfter setting; `fromDispatch`: a per-dispatch override, which cannot be a function (it is not stored). */
export function resolveRetryAfter(handler: string, value: RetryAfterInput, fromDispatch: boolean): ResolvedRetryAfter {
  const what = (part = '') => `retryAfter${part} of job ${handler}`;
  if (typeof value === 'function') {
    if (fromDispatch)
      throw new InvalidInputError(
        `Invalid ${what()}: a function can be set on the job class only (a dispatch stores its settings, and a function cannot be stored)`,
      );
    return { retryAfterMs: 0, retryPolicy: JSON.stringify({ fn: true } satisfies StoredPolicy) };
  }
  if (Array.isArray(value)) {
    if (value.length === 0 || value.length > 100)
      throw new InvalidInputError(`Invalid ${what()}: a list needs 1 to 100 waits, one per retry (the last repeats)`);
    const list = value.map((v, i) => delayToMs(v as DelayInput, what(`[${i}]`)));
    return { retryAfterMs: list[0]!, retryPolicy: JSON.stringify({ list } satisfies StoredPolicy) };
  }
  if (value !== null && typeof value === 'object' && !(value instanceof Date)) {
    const o = value as ExponentialBackoff;
    const known = new Set(['exponential', 'max', 'jitter']);
    for (const k of Object.keys(o)) if (!known.has(k)) throw new InvalidInputError(`Invalid ${what()}: unknown option ${k} (exponential, max, jitter)`);
    if (o.exponential === undefined)
      throw new InvalidInputError(`Invalid ${what()}: give { exponential: '2 seconds', max?, jitter? }, a duration, or a list of durations`);
    const base = delayToMs(o.exponential, what('.exponential'));
    if (base <= 0) throw new InvalidInputError(`Invalid ${what('.exponential')}: it must be longer than 0`);
    const max = o.max === undefined ? null : delayToMs(o.max, what('.max'));
    if (max !== null && max < base) throw new InvalidInputError(`Invalid ${what('.max')}: it is shorter than the first wait`);
    if (o.jitter !== undefined && typeof o.jitter !== 'boolean') throw new InvalidInputError(`Invalid ${what('.jitter')}: use true or false`);
    return { retryAfterMs: base, retryPolicy: JSON.stringify({ exponential: base, max, jitter: o.jitter === true } satisfies StoredPolicy) };
  }
  return { retryAfterMs: delayToMs(value as DelayInput, what()), retryPolicy: null };
}

/** The longest wait any policy gives: every duration's bound (values/duration.ts). */
const MAX_WAIT_MS = 5_000 * 604_800_000;

/**
 * The wait before the retry that follows failed attempt `attempt` (1 for the first run).
 * `fnWaitMs`: what the class's retryAfter function said in the run (null when it had none or it
 * failed). A stored policy that cannot be read falls back to the fixed wait: a retry is never lost to it.
 */
export function retryDelayMs(
  job: { retryAfterMs: number; retryPolicy: string | null },
  attempt: number,
  fnWaitMs: number | null,
  random = Math.random,
): number {
  if (job.retryPolicy === null) return job.retryAfterMs;
  let policy: StoredPolicy;
  try {
    policy = JSON.parse(job.retryPolicy) as StoredPolicy;
  } catch {
    return job.retryAfterMs;
  }
  if ('fn' in policy) return fnWaitMs ?? job.retryAfterMs;
  if ('list' in policy && Array.isArray(policy.list) && policy.list.length > 0) return policy.list[Math.min(attempt, policy.list.length) - 1]!;
  if ('exponential' in policy && typeof policy.exponential === 'number') {
    const grown = policy.exponential * 2 ** Math.min(Math.max(attempt - 1, 0), 60);
    const wait = Math.min(grown, policy.max ?? MAX_WAIT_MS, MAX_WAIT_MS);
    return policy.jitter ? Math.round(wait / 2 + random() * (wait / 2)) : Math.round(wait);
  }
  return job.retryAfterMs;
}
