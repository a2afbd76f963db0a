import { defaultProducer } from '../dispatcher.js';
import { InvalidInputError } from '../errors.js';
import { assertScheduleKey } from '../values/names.js';
import type { MisfirePolicy, NewJob } from '../stores/store.js';
import type { JsonObject, JsonPayload } from '../values/json.js';

// The application's dynamic schedules: stored through the dispatcher's producer, so they survive
// restarts and every runtime ticks them. The checks (and croner) load on the first call only: an
// app that merely dispatches loads nothing more than before.

/** A job class as schedule() takes it: any subclass of Job. */
interface SchedulableClass<P> {
  new (): { toNewJob(payload: P | undefined, options?: { queue?: string }): NewJob };
  readonly name: string;
}

export interface ScheduleOptions<P extends JsonPayload<P> = JsonObject> {
  /** Unique across the store; a static schedule's key is refused. */
  key: string;
  /** 5 fields, an optional leading seconds field, or @hourly, @daily, @weekly, @monthly, @yearly. */
  cron: string;
  /** IANA time zone the cron is read in (default 'UTC'). */
  tz?: string;
  job: SchedulableClass<P>;
  payload?: P;
  /** Default: the class's queue. */
  queue?: string;
  /** Ticks missed while no runtime ran: 'skip' (default) runs none, 'once' one catch-up run. */
  misfire?: MisfirePolicy;
}

/**
 * Creates or replaces a dynamic schedule: each tick of `cron` enqueues one job of `job` with
 * `payload` and the class's settings. A changed cron applies from the next tick. Throws
 * InvalidInputError naming the field and value on a bad cron, zone, payload or key.
 */
export async function schedule<P extends JsonPayload<P> = JsonObject>(options: ScheduleOptions<P>): Promise<void> {
  const { checkSchedule } = await import('./definition.js');
  if (typeof options?.job !== 'function') throw new InvalidInputError('schedule() needs `job`: the job class each tick enqueues');
  const where = `schedule() of job class ${options.job.name}`;
  const { key, job, queue, ...spec } = options;
  const checked = checkSchedule(where, { key, ...stripUndefined(spec) }, null);
  const row = new job().toNewJob(checked.payload as P, queue === undefined ? {} : { queue });
  const producer = await defaultProducer();
  await producer.saveSchedule({ schedule: { key: checked.key, cron: checked.cron, tz: checked.tz, misfire: checked.misfire, job: { ...row, delayMs: 0 } } });
}

/** Removes a dynamic schedule; false when there was none (a static schedule is not removed: it lives in its class). */
export async function unschedule(key: string): Promise<boolean> {
  assertScheduleKey(key);
  return (await defaultProducer()).removeSchedule({ key });
}

function stripUndefined(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}
