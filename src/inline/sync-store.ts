import { InvalidInputError } from '../errors.js';
import type { JobId, NewJob } from '../stores/store.js';
import { NothingKeptStore } from './nothing-kept.js';
import { runToEnd, type InlineJobClass, type InlineRunner } from '../execution/run-inline.js';

/**
 * `sync:` — `dispatch()` runs the job at once, in the caller, and resolves when it has finished:
 * attempts, failPermanently, onSuccess/onFailure and `context` behave as in the runtime (see
 * run-inline.ts), and a job that finally fails rejects the dispatch with its error.
 *
 * For: tests that want a job's effects right after dispatching it, and local development
 * without a runtime. Not for: production; it waits for no delay or retryAfter, enforces no
 * timeout, runs on the caller's thread, and stores nothing (nothing to inspect or count
 * afterwards). `jobs-runtime start` refuses it (nothing to process).
 */
export class SyncStore extends NothingKeptStore implements InlineRunner {
  readonly kind = 'sync';
  readonly displayUrl = 'sync:';
  private readonly runtimeId = `sync:${process.pid}`;

  /** Runs each job in order; every job runs even if an earlier one failed, as with a runtime. */
  async runInline(params: { jobClass: InlineJobClass; jobs: NewJob[] }): Promise<JobId[]> {
    const ids: JobId[] = [];
    const errors: Error[] = [];
    for (const row of params.jobs) {
      const id = this.nextId();
      ids.push(id);
      await runToEnd(params.jobClass, row, id, this.runtimeId).catch((e: Error) => errors.push(e));
    }
    if (errors.length === 1) throw errors[0];
    if (errors.length > 1) throw new AggregateError(errors, `${errors.length} of ${params.jobs.length} jobs failed; the first: ${errors[0]!.message}`);
    return ids;
  }

  /** Reached without a job class (e.g. `jobs-runtime dispatch`): there is nothing here to run. */
  async enqueue(params: { jobs: NewJob[] }): Promise<JobId[]> {
    if (params.jobs.length === 0) return [];
    throw new InvalidInputError(
      `The sync: engine runs jobs only when application code dispatches them (new MyJob().dispatch(…)); ` +
        `it cannot store job ${params.jobs[0]!.handler} for later: use a real store (redis:, mysql:, sqlite:)`,
    );
  }
}
