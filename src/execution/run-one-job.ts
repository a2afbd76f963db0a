import { HandlerNotFoundError, InvalidPayloadError, PERMANENT_ERROR_NAMES } from '../errors.js';
import { delayToMs } from '../values/duration.js';
import { isFinalFailure } from './thread-protocol.js';

// One run of one job, by the rules every place that runs jobs shares (the worker thread and
// the sync: engine): a fresh instance with `context` set, the payload parsed from its stored
// text (the job never gets the caller's objects), run() or execute(), onSuccess after a
// success, onFailure once at the final failure, a throwing hook only a warning. Whether a
// failure is final is decided here and passed on.

/** The part of a job class this needs (Job from job.ts fits, without this file importing it). */
export interface RunnableJob {
  context?: unknown;
  run?(payload: unknown): unknown;
  execute?(payload: unknown): unknown;
  onSuccess?(payload: unknown): unknown;
  onFailure?(payload: unknown, error: Error): unknown;
  /** A function here is asked how long to wait before the retry (values/retry-policy.ts). */
  retryAfter?: unknown;
}
export type RunnableJobClass = new () => RunnableJob;

/** What `this.context` holds during a run. */
export interface RunContext {
  id: number;
  handler: string;
  queue: string;
  /** This run's number, 1 for the first. */
  attempt: number;
  maxAttempts: number;
  runtimeId: string;
  scheduledAt: Date;
}

/** A hook (onSuccess, onFailure) threw: the job's outcome stands, the caller reports this. */
export interface HookWarning {
  hook: 'onSuccess' | 'onFailure' | 'retryAfter';
  message: string;
}

export type RunOutcome =
  /** `value`: what run() returned (undefined when nothing). */
  | { ok: true; warnings: HookWarning[]; value?: unknown }
  | {
      ok: false;
      error: Error;
      /** failPermanently(), no run() method, unreadable payload: no retry can help. */
      permanent: boolean;
      /** No run follows: permanent, or the last attempt. onFailure has been called. */
      final: boolean;
      /** What the class's retryAfter function said for this retry, in ms; absent when it has none or it threw. */
      retryInMs?: number;
      warnings: HookWarning[];
    };

export function hasRunMethod(jobClass: RunnableJobClass): boolean {
  const proto = jobClass.prototype as RunnableJob | undefined;
  return typeof proto?.run === 'function' || typeof proto?.execute === 'function';
}

export async function runOneJob(jobClass: RunnableJobClass, payloadText: string, context: RunContext): Promise<RunOutcome> {
  const warnings: HookWarning[] = [];
  let job: RunnableJob | undefined;
  let payload: unknown;
  let value: unknown;
  try {
    if (!hasRunMethod(jobClass)) throw new HandlerNotFoundError(`Job class ${context.handler} has no run() (or execute()) method`);
    payload = parsePayload(payloadText);
    job = new jobClass();
    job.context = { ...context };
    value = await (job.run ?? job.execute)!.call(job, payload);
  } catch (e) {
    const error = toError(e);
    const permanent = PERMANENT_ERROR_NAMES.has(error.name);
    const final = isFinalFailure({ attempts: context.attempt, maxAttempts: context.maxAttempts }, permanent);
    if (final && job?.onFailure) await hook(() => job!.onFailure!(payload, error), 'onFailure', warnings);
    const retryInMs = final ? undefined : await askRetryAfter(job, context.attempt, error, warnings);
    return { ok: false, error, permanent, final, warnings, ...(retryInMs === undefined ? {} : { retryInMs }) };
  }
  if (job.onSuccess) await hook(() => job!.onSuccess!(payload), 'onSuccess', warnings);
  return value === undefined ? { ok: true, warnings } : { ok: true, warnings, value };
}

/** The class's retryAfter(attempt, error), when it is a function; a throw or a bad answer is a warning (the fixed wait applies). */
async function askRetryAfter(job: RunnableJob | undefined, attempt: number, error: Error, warnings: HookWarning[]): Promise<number | undefined> {
  const fn = job?.retryAfter;
  if (typeof fn !== 'function') return undefined;
  let ms: number | undefined;
  await hook(
    () => {
      ms = delayToMs(fn.call(job, attempt, error), 'wait returned by retryAfter()');
    },
    'retryAfter',
    warnings,
  );
  return ms;
}

function parsePayload(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new InvalidPayloadError(`The job's payload in the store is not valid JSON (${(e as Error).message})`);
  }
}

/** A failing hook does not change the job's outcome; it is reported as a warning. */
async function hook(fn: () => unknown, name: HookWarning['hook'], warnings: HookWarning[]): Promise<void> {
  try {
    await fn();
  } catch (e) {
    warnings.push({ hook: name, message: toError(e).message });
  }
}

/** Anything thrown, as an Error: `throw 'text'` or a thrown object keeps what it said. */
export function toError(e: unknown): Error {
  if (e instanceof Error) return e;
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
