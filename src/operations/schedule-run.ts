import { dispatchJobs } from '../dispatcher.js';
import { InvalidInputError } from '../errors.js';
import type { Enqueued, JobStore, ScheduleRecord } from '../stores/store.js';
import { assertScheduleKey } from '../values/names.js';

// "Run now" of a schedule (`jobs-runtime schedules run <key>`, the dashboard's button): one job
// as the schedule's ticks enqueue it, due now, through the dispatch path (unique keys and limits
// apply, runtimes are woken). Not a tick: no tick is claimed and the last tick stays, so the
// schedule's own ticks go on as before.

export async function runScheduleNow(store: JobStore, key: string): Promise<{ schedule: ScheduleRecord; result: Enqueued }> {
  assertScheduleKey(key);
  const schedule = (await store.admin.listSchedules()).find((s) => s.key === key);
  if (!schedule) throw new InvalidInputError(`No schedule '${key}' (\`jobs-runtime schedules\` lists them)`);
  const [result] = await dispatchJobs(class {}, [{ ...schedule.job, delayMs: 0 }], store.producer);
  return { schedule, result: result! };
}
