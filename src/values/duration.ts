import { InvalidInputError } from '../errors.js';

// strtotime-style relative text: '+30 seconds', '+2 hours', '1 day', '90s', '1 hour 30 minutes', 'now'.
// Months and years are refused: their length depends on the calendar, and a job runtime that
// guessed would schedule silently wrong.
const UNIT_MS: Record<string, number> = {
  ms: 1,
  msec: 1,
  msecs: 1,
  millisecond: 1,
  milliseconds: 1,
  s: 1_000,
  sec: 1_000,
  secs: 1_000,
  second: 1_000,
  seconds: 1_000,
  m: 60_000,
  min: 60_000,
  mins: 60_000,
  minute: 60_000,
  minutes: 60_000,
  h: 3_600_000,
  hr: 3_600_000,
  hrs: 3_600_000,
  hour: 3_600_000,
  hours: 3_600_000,
  d: 86_400_000,
  day: 86_400_000,
  days: 86_400_000,
  w: 604_800_000,
  week: 604_800_000,
  weeks: 604_800_000,
};

const TERM = /([+-]?)\s*(\d+(?:\.\d+)?)\s*([a-z]+)/gy;

/**
 * The longest duration taken anywhere: 5,000 weeks (about 96 years). Longer ones are typos or
 * overflows (MySQL's DATETIME ends in year 9999; past 2^53 ms a number loses precision).
 */
export const MAX_DURATION_MS = 5_000 * 604_800_000;

function checkMax(ms: number, what: string, text: string): number {
  if (Math.abs(ms) > MAX_DURATION_MS) throw new InvalidInputError(`Invalid ${what} ${text}: at most 5000 weeks (about 96 years)`);
  return ms;
}

/** Milliseconds in a relative duration text. Throws InvalidInputError naming the text. */
export function parseDurationText(text: string, what = 'duration'): number {
  const src = text.trim().toLowerCase();
  if (src === 'now' || src === '0') return 0;
  let total = 0;
  let terms = 0;
  TERM.lastIndex = 0;
  let pos = 0;
  while (pos < src.length) {
    while (src[pos] === ' ' || src[pos] === ',') pos++;
    if (pos >= src.length) break;
    TERM.lastIndex = pos;
    const m = TERM.exec(src);
    const unit = m?.[3];
    const factor = unit === undefined ? undefined : UNIT_MS[unit];
    if (!m || factor === undefined) {
      throw new InvalidInputError(
        `Invalid ${what} '${text}': expected relative text such as '+30 seconds', '+2 hours' or '1 day' (units: ms, seconds, minutes, hours, days, weeks)`,
      );
    }
    total += (m[1] === '-' ? -1 : 1) * Number(m[2]) * factor;
    terms++;
    pos = TERM.lastIndex;
  }
  if (terms === 0) throw new InvalidInputError(`Invalid ${what} '${text}': it is empty`);
  return checkMax(Math.round(total), what, `'${text}'`);
}

export type DelayInput = string | number | Date;

/**
 * Milliseconds from now until a delay ends. Accepts relative text, a number of ms or a Date.
 * A time in the past means "now".
 */
export function delayToMs(value: DelayInput | undefined | null, what = 'delay', now = Date.now()): number {
  if (value === undefined || value === null) return 0;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new InvalidInputError(`Invalid ${what} ${value}: a number of milliseconds must be finite`);
    return Math.max(0, checkMax(Math.round(value), what, String(value)));
  }
  if (value instanceof Date) {
    const t = value.getTime();
    if (Number.isNaN(t)) throw new InvalidInputError(`Invalid ${what}: the Date is invalid`);
    return Math.max(0, checkMax(t - now, what, value.toISOString()));
  }
  if (typeof value === 'string') return Math.max(0, parseDurationText(value, what));
  throw new InvalidInputError(`Invalid ${what} of type ${typeof value}: use text like '+30 seconds', milliseconds or a Date`);
}

/** CLI durations: a bare number is in `defaultUnitMs` (seconds for --sleep), else relative text. */
export function parseCliDuration(value: string, option: string, defaultUnitMs = 1000): number {
  const v = value.trim();
  // '-1' would otherwise read as text without a unit, and '-1 minute' as a wait into the past.
  if (v.startsWith('-')) throw new InvalidInputError(`Invalid value for ${option} '${value}': negative durations are not allowed`);
  const ms = /^\d+(\.\d+)?$/.test(v)
    ? checkMax(Math.round(Number(v) * defaultUnitMs), `value for ${option}`, `'${value}'`)
    : parseDurationText(v, `value for ${option}`);
  if (ms < 0) throw new InvalidInputError(`Invalid value for ${option} '${value}': negative durations are not allowed`);
  return ms;
}
