import type { ClaimedJob, JobResult, Queue } from '../stores/store.js';
import type { Logger } from './logger.js';
import type { JobExecutor } from './thread-pool.js';

// What the master gives the runtime (runtime.ts) and what it gets back.

export interface RuntimeOptions {
  queue: Queue;
  /** The store's URL (password masked), for messages about its health. */
  storeUrl: string;
  executor: JobExecutor;
  log: Logger;
  /** This runtime's id, recorded on every job it claims. */
  owner: string;
  /** Queues in strict priority order; null = all queues. */
  queues: string[] | null;
  /** PHP classes taken over from Lightpack: stored handler → the Node job file's handler. */
  takeOver: Map<string, string>;
  /** Most jobs taken in one claim. */
  batch: number;
  /** Idle poll interval. */
  pollMs: number;
  /** Default hard time limit per run, for jobs without their own. */
  timeoutMs: number | null;
  stopWhenEmpty: boolean;
  keepCompleted: boolean;
  /** Record outcome events with each result (issue 17): run()'s value, duration and attempt go with it. */
  keepOutcomes?: boolean;
  /** How long running jobs may finish after a stop request. */
  graceMs: number;
  /** Claim at most this many jobs in this runtime's life, then drain (null: no limit). */
  maxJobs: number | null;
  events: RuntimeEvents;
}

/** What the runtime tells the rest of the master, given once at construction. */
export interface RuntimeEvents {
  /** Once, after the first successful claim (readiness for supervisors). */
  ready(): void;
  /** Every run that finished (not jobs handed back unrun), e.g. for metrics; on the hot path, so keep it cheap. */
  jobFinished?(job: ClaimedJob, outcome: JobResult['outcome'], durationMs: number): void;
  /** Once --max-jobs jobs have been claimed and have all finished. */
  maxJobsReached(): void;
  /** Every claim that came back, with how many jobs it took (metrics; the wake-up budget gives back what finding work cost). */
  claimed?(count: number): void;
}

export interface RunSummary {
  completed: number;
  failed: number;
  retried: number;
  released: number;
  /** Results the store refused: their claims had been given back to run elsewhere. */
  dropped: number;
}
