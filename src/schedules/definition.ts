import { InvalidInputError } from '../errors.js';
import { assertScheduleKey } from '../values/names.js';
import type { MisfirePolicy } from '../stores/store.js';
import type { JsonObject } from '../values/json.js';
import { serializePayload } from '../values/payload.js';
import { CronTicks } from './ticks.js';

// The checks a schedule goes through, static (a job class's `static schedule`) or dynamic
// (`schedule()`): each error names where the schedule comes from, the field and the value, so a
// runtime that refuses to start, or a schedule() that throws, says what to fix.

/** One entry of `static schedule`, as a job class writes it. */
export interface ScheduleSpec<P = JsonObject> {
  cron: string;
  /** IANA time zone the cron is read in (default 'UTC'). */
  tz?: string;
  payload?: P;
  /** Ticks missed while no runtime ran: 'skip' (default) runs none, 'once' one catch-up run. */
  misfire?: MisfirePolicy;
  /** Default: the handler, plus '#n' for the n-th entry of a list (from 1). */
  key?: string;
}

/** What a class may declare: one entry, a bare cron text (UTC, empty payload), or a list of either. */
export type StaticSchedule<P = JsonObject> = string | ScheduleSpec<P> | ReadonlyArray<string | ScheduleSpec<P>>;

/** A checked schedule, before its job row is built. */
export interface CheckedSchedule {
  key: string;
  cron: string;
  tz: string;
  misfire: MisfirePolicy;
  /** The payload as given (plain JSON, checked); {} when none. */
  payload: unknown;
}

const FIELDS = new Set(['cron', 'tz', 'payload', 'misfire', 'key']);

/** Checks one entry; `where` names its source ("job class NightlyReport (jobs/NightlyReport.ts)", "schedule()"). */
export function checkSchedule(where: string, spec: unknown, defaultKey: string | null): CheckedSchedule {
  const entry = typeof spec === 'string' ? { cron: spec } : spec;
  if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) {
    throw new InvalidInputError(`Invalid schedule of ${where}: expected a cron text or { cron, tz?, payload?, misfire?, key? }, got ${describe(spec)}`);
  }
  const fields = entry as Record<string, unknown>;
  const unknown = Object.keys(fields).filter((k) => !FIELDS.has(k));
  if (unknown.length > 0) {
    throw new InvalidInputError(
      `Invalid schedule of ${where}: unknown field ${unknown.map((k) => `'${k}'`).join(', ')} (known: cron, tz, payload, misfire, key)`,
    );
  }
  const key = fields.key ?? defaultKey;
  try {
    assertScheduleKey(key);
  } catch (e) {
    throw new InvalidInputError(`Invalid schedule of ${where}: field 'key': ${(e as Error).message}`);
  }
  const cron = fields.cron;
  if (typeof cron !== 'string' || cron.trim() === '') {
    throw new InvalidInputError(`Invalid schedule '${key}' of ${where}: field 'cron' must be a cron text like '*/5 * * * *', got ${describe(cron)}`);
  }
  const tz = fields.tz ?? 'UTC';
  if (typeof tz !== 'string' || !isTimeZone(tz)) {
    throw new InvalidInputError(`Invalid schedule '${key}' of ${where}: field 'tz' ${describe(tz)} is not an IANA time zone (e.g. 'Europe/Paris', 'UTC')`);
  }
  try {
    new CronTicks(cron, tz);
  } catch (e) {
    const why = (e as Error).message.replace(/^CronPattern:\s*/, '');
    throw new InvalidInputError(
      `Invalid schedule '${key}' of ${where}: field 'cron' '${cron}' is not a cron text (${why}); ` +
        `use 5 fields (minute hour day month weekday), an optional leading seconds field, or @hourly, @daily, @weekly, @monthly, @yearly`,
    );
  }
  const misfire = fields.misfire ?? 'skip';
  if (misfire !== 'skip' && misfire !== 'once') {
    throw new InvalidInputError(`Invalid schedule '${key}' of ${where}: field 'misfire' must be 'skip' or 'once', got ${describe(misfire)}`);
  }
  const payload = fields.payload ?? {};
  try {
    serializePayload(payload);
  } catch (e) {
    throw new InvalidInputError(`Invalid schedule '${key}' of ${where}: field 'payload': ${(e as Error).message}`);
  }
  return { key, cron: cron.trim(), tz, misfire, payload };
}

/** Every entry of a class's `static schedule`, keys defaulted and checked, none twice. */
export function checkStaticSchedules(where: string, handler: string, declared: unknown): CheckedSchedule[] {
  if (declared === undefined || declared === null) return [];
  const list = Array.isArray(declared) ? declared : [declared];
  const checked = list.map((spec, i) => checkSchedule(where, spec, Array.isArray(declared) ? `${handler}#${i + 1}` : handler));
  assertDistinctKeys(checked, (key) => `Invalid schedules of ${where}: key '${key}' is used twice`);
  return checked;
}

export function assertDistinctKeys(schedules: Array<{ key: string }>, message: (key: string) => string): void {
  const seen = new Set<string>();
  for (const s of schedules) {
    if (seen.has(s.key)) throw new InvalidInputError(message(s.key));
    seen.add(s.key);
  }
}

function isTimeZone(tz: string): boolean {
  if (tz === '') return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}
