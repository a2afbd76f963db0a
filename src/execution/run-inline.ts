import type { JobId, NewJob } from '../stores/store.js';
import { runOneJob, type RunnableJobClass } from './run-one-job.js';

// One job run to its end in the caller (the sync: engine): each attempt by run-one-job's rules,
// a retry while attempts are left and the failure is not permanent. What it does not do: wait
// for `delay` or `retryAfter` (the runs follow each other at once), enforce `timeout`, or
// isolate the job in a thread. The final error is thrown to the caller; hook warnings become
// process warnings.

export async function runToEnd(jobClass: RunnableJobClass, row: NewJob, id: JobId, runtimeId: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const outcome = await runOneJob(jobClass, row.payload, {
      id,
      handler: row.handler,
      queue: row.queue,
      attempt,
      maxAttempts: row.maxAttempts,
      runtimeId,
      scheduledAt: new Date(Date.now() + row.delayMs),
    });
    for (const w of outcome.warnings) process.emitWarning(`${w.hook}() of job ${row.handler} #${id} threw: ${w.message}`, { type: 'JobHookWarning' });
    if (outcome.ok) return;
    if (outcome.final) throw outcome.error;
  }
}
