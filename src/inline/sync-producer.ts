import { InvalidInputError } from '../errors.js';
import { runToEnd } from '../execution/run-inline.js';
import type { RunnableJobClass } from '../execution/run-one-job.js';
import type { DispatchedClass, Enqueued, JobId, NewJob, Producer, ScheduleDefinition } from '../stores/store.js';
import { checkInlinePayloads, InlineIds } from './inline-ids.js';

/**
 * `sync:` — `dispatch()` runs the job at once, in the caller, and resolves when it has finished:
 * attempts, failPermanently, onSuccess/onFailure and `context` behave as in the runtime (the
 * same run-one-job module runs them), and a job that finally fails rejects the dispatch with
 * its error.
 *
 * For: tests that want a job's effects right after dispatching it, and local development
 * without a runtime. Not for: production; it waits for no delay or retryAfter, enforces no
 * timeout, runs on the caller's thread, and stores nothing. It is a producer only: `jobs-runtime
 * start` and the operator commands refuse it (there is nothing to process or inspect).
 */
export class SyncProducer implements Producer {
  readonly displayUrl = 'sync:';
  private readonly runtimeId = `sync:${process.pid}`;
  private readonly ids = new InlineIds();

  /** Each job runs at its dispatch and holds nothing afterwards, so no dispatch is a duplicate. */
  async enqueueWithOutcome(params: { jobs: NewJob[]; jobClass?: DispatchedClass }): Promise<Enqueued[]> {
    return (await this.enqueue(params)).map((id) => ({ id, duplicate: false }));
  }

  /** Runs each job in order; every job runs even if an earlier one failed, as with a runtime. */
  async enqueue(params: { jobs: NewJob[]; jobClass?: DispatchedClass }): Promise<JobId[]> {
    const { jobs, jobClass } = params;
    if (jobs.length === 0) return [];
    if (!jobClass) {
      throw new InvalidInputError(
        `The sync: engine runs jobs only when application code dispatches them (new MyJob().dispatch(…)); ` +
          `it cannot store job ${jobs[0]!.handler} for later: use a real store (redis:, mysql:, sqlite:)`,
      );
    }
    checkInlinePayloads(jobs, 'sync:');
    const ids: JobId[] = [];
    const errors: Error[] = [];
    for (const row of jobs) {
      const id = this.ids.next();
      ids.push(id);
      await runToEnd(jobClass as unknown as RunnableJobClass, row, id, this.runtimeId).catch((e: Error) => errors.push(e));
    }
    if (errors.length === 1) throw errors[0];
    if (errors.length > 1) throw new AggregateError(errors, `${errors.length} of ${jobs.length} jobs failed; the first: ${errors[0]!.message}`);
    return ids;
  }

  /**
   * A schedule needs a store that keeps it and a runtime that ticks it; sync: has neither, so
   * accepting it would silently never run it.
   */
  async saveSchedule(params: { schedule: ScheduleDefinition }): Promise<void> {
    throw new InvalidInputError(
      `the sync: engine keeps no schedules: schedule ${params.schedule.key} (${params.schedule.cron}) would never run; ` +
        `use a real store (redis:, mysql:, sqlite:) and a runtime, or null: to drop it`,
    );
  }

  async removeSchedule(params: { key: string }): Promise<boolean> {
    throw new InvalidInputError(`the sync: engine keeps no schedules: there is no schedule ${params.key} to remove`);
  }

  maxPayloadBytes = this.ids.maxPayloadBytes;

  async close(): Promise<void> {}
}
