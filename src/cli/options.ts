import { InvalidArgumentError } from 'commander';
import { parseCliDuration } from '../values/duration.js';
import { InvalidInputError } from '../errors.js';
import { parseQueueList } from '../values/names.js';

// Option parsers for commander: each rejects bad input with a message naming the option.

export function positiveInt(option: string, max = 10_000) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < 1 || n > max) {
      throw new InvalidArgumentError(`${option} must be a whole number from 1 to ${max}, got '${value}'`);
    }
    return n;
  };
}

/** A whole number from `min` to `max`, negative ones included (priorities). */
export function integerIn(option: string, min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^-?\d+$/.test(value.trim()) || n < min || n > max) {
      throw new InvalidArgumentError(`${option} must be a whole number from ${min} to ${max}, got '${value}'`);
    }
    return n;
  };
}

/** A bare number is seconds; relative text ('500ms', '2 minutes') works too. */
export function duration(option: string) {
  return (value: string): number => {
    try {
      return parseCliDuration(value, option);
    } catch (e) {
      throw new InvalidArgumentError((e as Error).message);
    }
  };
}

/**
 * A duration of at least `minMs`: an interval of 0 would poll, beat or wait in a busy loop, and
 * a limit of 0 would silently mean no limit.
 */
export function durationAtLeast(option: string, minMs: number, minText: string) {
  const parse = duration(option);
  return (value: string): number => {
    const ms = parse(value);
    if (ms < minMs) throw new InvalidArgumentError(`${option} must be at least ${minText}, got '${value}'`);
    return ms;
  };
}

/** A retention: a duration ('1d', '12 hours', a bare number is seconds) or 'forever' (Infinity). */
export function retention(option: string) {
  return (value: string): number => {
    if (/^\s*forever\s*$/i.test(value)) return Infinity;
    const ms = duration(option)(value);
    if (ms <= 0) throw new InvalidArgumentError(`${option} must be more than 0 (or 'forever'), got '${value}'`);
    return ms;
  };
}

/** --keep-outcomes: a duration, 0 or 'off' (outcomes not kept), or 'forever' (never pruned). */
export function outcomeRetention(option: string) {
  return (value: string): number => {
    if (/^\s*off\s*$/i.test(value)) return 0;
    if (/^\s*forever\s*$/i.test(value)) return Infinity;
    return duration(option)(value);
  };
}

/** How long a runtime keeps job outcomes unless told otherwise (issue 17). */
export const DEFAULT_KEEP_OUTCOMES_MS = 3_600_000;

/** A TCP port, 1 to 65535. */
export const port = (option: string) => positiveInt(option, 65_535);

export function queueList(value: string): string[] {
  try {
    return parseQueueList(value);
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message);
  }
}

export function json(option: string) {
  return (value: string): unknown => {
    try {
      return JSON.parse(value);
    } catch (e) {
      throw new InvalidArgumentError(`${option} is not valid JSON: ${(e as Error).message}`);
    }
  };
}

/** Messages for errors users cause (bad input, unreachable store) print without a stack. */
export function isUserError(e: unknown): boolean {
  const name = (e as Error)?.name;
  return e instanceof InvalidInputError || ['StoreUnavailableError', 'HandlerNotFoundError', 'TypeError', 'RangeError', 'InvalidInputError'].includes(name);
}
