import { createHash } from 'node:crypto';
import { InvalidInputError } from '../errors.js';
import { type ConcurrencySpec, MAX_KEY_LENGTH, type RateSpec, type UniqueSpec } from '../stores/rows.js';
import { type DelayInput, delayToMs } from './duration.js';

// Flow-control settings of a job class or a dispatch (issue 15), checked where they enter: the
// dispatch. Each error names the job, the option and the value; nothing reaches a store until
// every job of the dispatch passed. Keys are data: they travel to stores as parameters only.

export const MIN_PRIORITY = -1000;
export const MAX_PRIORITY = 1000;

/** A key: fixed text, or computed from the payload (it must return a non-empty string). */
export type KeySource<P> = string | ((payload: P) => string);

export interface UniqueOptions<P> {
  /** What makes two jobs of this class the same; `true` (the default): the whole payload. */
  key?: KeySource<P> | true;
  /** After this long (from the dispatch) a new job with the key is accepted, even if the old one still stands. */
  for?: DelayInput;
  /** When the key is released: once a runtime starts the job, or (default) once it is done or finally failed. */
  until?: 'started' | 'done';
  /** A duplicate of a waiting job: keep it as it is (default), or give it the new payload and due time. */
  onConflict?: 'skip' | 'replace';
}
/** `true`: unique by the whole payload, until done, duplicates skipped. */
export type UniqueOption<P> = boolean | UniqueOptions<P>;

export interface ConcurrencyOption<P> {
  /** At most this many jobs with the same key run at once, across every runtime and host. */
  limit: number;
  /** Shared by every job class that names it; default: the job's handler. */
  key?: KeySource<P>;
}

/**
 * At most `limit` starts per window per key, across every runtime and host. The window is
 * `per` ('1 minute', ms), or the seed's `seconds`/`minutes`/`hours`/`days` count.
 */
export interface RateOption<P> {
  limit: number;
  per?: DelayInput;
  seconds?: number;
  minutes?: number;
  hours?: number;
  days?: number;
  /** Shared by every job class that names it; default: the job's handler. */
  key?: KeySource<P>;
}

function invalid(handler: string, option: string, value: unknown, rule: string): InvalidInputError {
  return new InvalidInputError(`Invalid ${option} ${describe(value)} for job ${handler}: ${rule}`);
}

function describe(value: unknown): string {
  if (typeof value === 'string') return `'${value.length > 80 ? `${value.slice(0, 80)}…` : value}'`;
  if (typeof value === 'function') return 'function';
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

export function resolvePriority(handler: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < MIN_PRIORITY || value > MAX_PRIORITY) {
    throw invalid(handler, 'priority', value, `it must be a whole number from ${MIN_PRIORITY} to ${MAX_PRIORITY} (lower runs first)`);
  }
  return value;
}

function resolveKey<P>(handler: string, option: string, source: unknown, payload: P): string {
  let key: unknown = source;
  if (typeof source === 'function') {
    try {
      key = (source as (p: P) => unknown)(payload);
    } catch (e) {
      throw new InvalidInputError(`The ${option} function of job ${handler} threw: ${(e as Error)?.message ?? String(e)}`);
    }
  }
  if (typeof key !== 'string' || key === '') {
    throw invalid(handler, option, key, `it must be a non-empty string${typeof source === 'function' ? ' (what the key function returned)' : ''}`);
  }
  if (key.length > MAX_KEY_LENGTH) throw invalid(handler, option, key, `it is ${key.length} characters long; at most ${MAX_KEY_LENGTH}`);
  return key;
}

function resolveLimit(handler: string, option: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 1_000_000) {
    throw invalid(handler, option, value, 'it must be a whole number from 1 to 1000000');
  }
  return value;
}

/** The payload as canonical JSON (keys sorted), hashed when longer than a key may be. */
export function payloadKey(payloadJson: string): string {
  const canonical = JSON.stringify(sortKeys(JSON.parse(payloadJson)));
  return canonical.length <= MAX_KEY_LENGTH ? canonical : `sha256:${createHash('sha256').update(canonical).digest('hex')}`;
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object') {
    return Object.fromEntries(
      Object.keys(v)
        .sort()
        .map((k) => [k, sortKeys((v as Record<string, unknown>)[k])]),
    );
  }
  return v;
}

export function resolveUnique<P>(handler: string, value: unknown, payload: P, payloadJson: string): UniqueSpec | null {
  if (value === undefined || value === null || value === false) return null;
  const options = (value === true ? {} : value) as UniqueOptions<P>;
  if (typeof options !== 'object') throw invalid(handler, 'unique', value, 'use true or { key, for, until, onConflict }');
  const known = new Set(['key', 'for', 'until', 'onConflict']);
  for (const name of Object.keys(options))
    if (!known.has(name)) throw invalid(handler, `unique.${name}`, (options as Record<string, unknown>)[name], 'unknown option (key, for, until, onConflict)');
  const key = options.key === undefined || options.key === true ? payloadKey(payloadJson) : resolveKey(handler, 'unique.key', options.key, payload);
  let forMs: number | null = null;
  if (options.for !== undefined) {
    if (options.for instanceof Date) throw invalid(handler, 'unique.for', options.for, "it is a duration ('10 minutes', ms), not a date");
    forMs = delayToMs(options.for, `unique.for of job ${handler}`);
    if (forMs <= 0) throw invalid(handler, 'unique.for', options.for, 'it must be longer than 0');
  }
  const until = options.until ?? 'done';
  if (until !== 'started' && until !== 'done') throw invalid(handler, 'unique.until', until, "use 'started' or 'done'");
  const onConflict = options.onConflict ?? 'skip';
  if (onConflict !== 'skip' && onConflict !== 'replace') throw invalid(handler, 'unique.onConflict', onConflict, "use 'skip' or 'replace'");
  return { key, forMs, until, onConflict };
}

export function resolveConcurrency<P>(handler: string, value: unknown, payload: P): ConcurrencySpec | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'object') throw invalid(handler, 'concurrencyLimit', value, 'use { limit, key? }');
  const o = value as ConcurrencyOption<P>;
  return {
    limit: resolveLimit(handler, 'concurrencyLimit.limit', o.limit),
    key: o.key === undefined ? handler : resolveKey(handler, 'concurrencyLimit.key', o.key, payload),
  };
}

const WINDOW_UNITS = { seconds: 1_000, minutes: 60_000, hours: 3_600_000, days: 86_400_000 } as const;

export function resolveRate<P>(handler: string, value: unknown, payload: P): RateSpec | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'object') throw invalid(handler, 'rateLimit', value, "use { limit, per: '1 minute', key? } or { limit, minutes: 1, key? }");
  const o = value as RateOption<P>;
  const given = (['per', ...Object.keys(WINDOW_UNITS)] as const).filter((k) => o[k as keyof RateOption<P>] !== undefined);
  if (given.length !== 1) throw invalid(handler, 'rateLimit', value, 'give its window once: per, seconds, minutes, hours or days');
  const unit = given[0] as 'per' | keyof typeof WINDOW_UNITS;
  let perMs: number;
  if (unit === 'per') {
    if (o.per instanceof Date) throw invalid(handler, 'rateLimit.per', o.per, "it is a duration ('1 minute', ms), not a date");
    perMs = delayToMs(o.per, `rateLimit.per of job ${handler}`);
  } else {
    const n = o[unit];
    if (typeof n !== 'number' || !Number.isFinite(n) || n <= 0) throw invalid(handler, `rateLimit.${unit}`, n, 'it must be a number above 0');
    perMs = Math.round(n * WINDOW_UNITS[unit]);
  }
  if (perMs < 1) throw invalid(handler, 'rateLimit window', o.per, 'it must be at least 1 ms');
  return {
    limit: resolveLimit(handler, 'rateLimit.limit', o.limit),
    perMs,
    key: o.key === undefined ? handler : resolveKey(handler, 'rateLimit.key', o.key, payload),
  };
}
