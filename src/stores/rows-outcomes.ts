import type { JobId } from './rows.js';

// Job outcomes the application awaits and follows (issue 17); re-exported by rows.ts.

/** Largest result JSON (UTF-8 bytes) kept with an outcome: a larger one is dropped with a warning. */
export const MAX_RESULT_BYTES = 64 * 1024;

export type OutcomeKind = 'completed' | 'failed' | 'retrying';

/**
 * One event a store wrote in the same transaction or script as the result (or the recovery) it
 * tells of: none exists for a result the store refused as stale.
 */
export interface OutcomeEvent {
  /** Store-made, increasing in commit order per job; `since` takes it back (opaque: digits on SQL, a stream id on Redis). */
  id: string;
  kind: OutcomeKind;
  jobId: JobId;
  handler: string;
  queue: string;
  /** The run this tells of, 1 for the first. */
  attempt: number;
  /** Run time, ms; null for a run its runtime died in (recovery). */
  durationMs: number | null;
  /** Failed and retrying: the error text (stack trace) stored with the job. */
  error: string | null;
  /** Completed: JSON text of run()'s return value, null when none was kept. */
  result: string | null;
  /** When the store wrote it (store clock). */
  at: Date;
}

export interface OutcomePage {
  events: OutcomeEvent[];
  /** The last event id looked at (the `after` given when none was). */
  cursor: string | null;
}

/** What a store knows of one job's outcome: its final event if one is kept, else where the job stands. */
export interface JobOutcomeState {
  /** The completed or failed event, when the job ended and its outcome is still kept. */
  final: OutcomeEvent | null;
  /** Where the job stands when `final` is null: 'unknown' when no row exists (never stored, pruned, or ended with outcomes off). */
  state: 'waiting' | 'running' | 'ended' | 'unknown';
}
