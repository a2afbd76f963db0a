import type { JobId, NewJob } from '../stores/store.js';
import { NothingKeptStore } from './nothing-kept.js';

/**
 * `null:` — dispatches are accepted and dropped. Each dispatch is validated exactly as for a
 * real store (handler, queue, attempts, delays, payload) and gets an id, so application code
 * runs unchanged; no job is stored and none ever runs.
 *
 * For: tests of code that dispatches, where the jobs themselves do not matter; local development
 * without a database; turning jobs off in one environment.
 * Not for: anything that needs a job to run. `jobs-runtime start` refuses it (nothing to process).
 */
export class NullStore extends NothingKeptStore {
  readonly kind = 'null';
  readonly displayUrl = 'null:';

  async enqueue(params: { jobs: NewJob[] }): Promise<JobId[]> {
    return params.jobs.map(() => this.nextId());
  }
}
