import type { Enqueued, JobId, NewJob, Producer, ScheduleDefinition } from '../stores/store.js';
import { checkInlinePayloads, InlineIds } from './inline-ids.js';

/**
 * `null:` — dispatches are accepted and dropped. Each dispatch is validated exactly as for a
 * real store (handler, queue, attempts, delays, payload) and gets an id, so application code
 * runs unchanged; no job is stored and none ever runs.
 *
 * For: tests of code that dispatches, where the jobs themselves do not matter; local development
 * without a database; turning jobs off in one environment.
 * Not for: anything that needs a job to run. It is a producer only: `jobs-runtime start` and
 * the operator commands refuse it (there is nothing to process or inspect).
 */
export class NullProducer implements Producer {
  readonly displayUrl = 'null:';
  private readonly ids = new InlineIds();

  async enqueue(params: { jobs: NewJob[] }): Promise<JobId[]> {
    checkInlinePayloads(params.jobs, 'null:');
    return params.jobs.map(() => this.ids.next());
  }

  /** Nothing is kept, so no unique key is held: no dispatch is a duplicate. */
  async enqueueWithOutcome(params: { jobs: NewJob[] }): Promise<Enqueued[]> {
    return (await this.enqueue(params)).map((id) => ({ id, duplicate: false }));
  }

  /** Accepted and dropped, like its dispatches: application code that schedules runs unchanged. */
  async saveSchedule(_params: { schedule: ScheduleDefinition }): Promise<void> {}

  /** Nothing was kept, so there is never one to remove. */
  async removeSchedule(_params: { key: string }): Promise<boolean> {
    return false;
  }

  maxPayloadBytes = this.ids.maxPayloadBytes;

  async close(): Promise<void> {}
}
