import { InvalidInputError } from '../errors.js';
import type { JobId, MisfirePolicy, NewJob, ScheduleDefinition, ScheduleRecord } from './rows.js';

// What every store shares about schedules: how a schedule's job is kept as text, how a stored
// row reads back, and the refusals that must say the same thing whatever the store.

/** Tick records are kept this long: far longer than any clock skew or misfire look-back. */
export const TICK_KEEP_MS = 7 * 24 * 3_600_000;

/** The job a tick enqueues, as stored: NewJob without its delay (a tick's job is due at the tick). */
export function encodeScheduleJob(job: NewJob): string {
  const { delayMs: _ignored, ...rest } = job;
  return JSON.stringify(rest);
}

export function decodeScheduleJob(text: string): NewJob {
  return { ...(JSON.parse(text) as Omit<NewJob, 'delayMs'>), delayMs: 0 };
}

/** A tick's job as the insert path takes it: due at the tick, by the store's clock. */
export function tickJob(job: NewJob, tickAtMs: number, nowMs: number): NewJob {
  return { ...job, delayMs: tickAtMs - nowMs };
}

/** A stored schedule, whatever the store's column types (times as ms). */
export interface StoredSchedule {
  key: string;
  kind: string;
  cron: string;
  tz: string;
  misfire: string;
  job: string;
  lastTickAtMs: number | null;
  lastJobId: JobId | null;
  updatedAtMs: number;
  declaredBy: string[];
}

export function toScheduleRecord(s: StoredSchedule): ScheduleRecord {
  return {
    key: s.key,
    kind: s.kind === 'static' ? 'static' : 'dynamic',
    cron: s.cron,
    tz: s.tz,
    misfire: s.misfire as MisfirePolicy,
    job: decodeScheduleJob(s.job),
    declaredBy: [...s.declaredBy].sort(),
    lastTickAtMs: s.lastTickAtMs,
    lastJobId: s.lastJobId,
    updatedAt: new Date(s.updatedAtMs),
  };
}

/** True when a stored schedule already says what `d` says (a re-declaration changes nothing, not even updatedAt). */
export function sameDefinition(s: Pick<StoredSchedule, 'cron' | 'tz' | 'misfire' | 'job'>, d: ScheduleDefinition): boolean {
  return s.cron === d.cron && s.tz === d.tz && s.misfire === d.misfire && s.job === encodeScheduleJob(d.job);
}

/** saveSchedule on a key a static schedule holds: the code owns it, the application may not replace it. */
export function staticKeyError(key: string): InvalidInputError {
  return new InvalidInputError(
    `The schedule key '${key}' belongs to a static schedule (declared on a job class with \`static schedule\`): ` +
      'a dynamic schedule cannot replace it; choose another key, or change the job class ' +
      `(once no running runtime declares it any more, \`jobs-runtime schedules remove ${key}\` frees the key)`,
  );
}

/** declareSchedules on a key a dynamic schedule holds: refused, so neither silently replaces the other. */
export function dynamicKeyError(key: string): InvalidInputError {
  return new InvalidInputError(
    `The static schedule key '${key}' is already used by a dynamic schedule (created with schedule()): ` +
      `remove it first (unschedule('${key}') or \`jobs-runtime schedules remove ${key}\`), or give the static schedule another key`,
  );
}
