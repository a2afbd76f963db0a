// What the master sends a worker thread for one job, and what comes back. Errors cross the
// thread boundary as plain data (name, message, stack).

export interface JobTask {
  id: number;
  handler: string;
  queue: string;
  /** The runtime (master) running it. */
  runtimeId: string;
  /** JSON text as stored; parsed in the thread so a bad payload fails only its job. */
  payload: string;
  /** Runs started so far, this one included. */
  attempts: number;
  maxAttempts: number;
  /** The task's slot in `ThreadData.starts` (set by the pool). */
  startSlot?: number;
}

export interface ThreadData {
  jobsDir: string;
  /** One Int32 the master sets to 1 on shutdown: tasks not yet started then come back unrun. */
  stopFlag: SharedArrayBuffer;
  /** Int32 per task slot: where the task stands and since when (see `TaskSlot`), for timeouts. */
  starts: SharedArrayBuffer;
  epoch: number;
}

/**
 * What a task slot holds, so the master can time a job's run and tell the job that was running
 * when a thread died: 0 queued, -1 finished, a positive value = running since (ms since epoch),
 * a value below -1 = loading the job's code since (its negation). Loading is timed apart: a
 * first import in a fresh thread may compile TypeScript on a busy machine, which is no part of
 * the job's own run and must not eat its --timeout.
 */
export const TaskSlot = {
  QUEUED: 0,
  FINISHED: -1,
  loading: (msSinceEpoch: number): number => -Math.max(2, msSinceEpoch),
  running: (msSinceEpoch: number): number => Math.max(1, msSinceEpoch),
  /** Started: loading or running (a thread that dies now dies with this task). */
  isStarted: (state: number): boolean => state > 0 || state < -1,
  isLoading: (state: number): boolean => state < -1,
  /** When the current phase began, in ms since epoch. */
  since: (state: number): number => Math.abs(state),
} as const;

/** How long loading a job's code may take in a thread before the thread is terminated. */
export const LOAD_LIMIT_MS = 30_000;

export type JobTaskResult =
  /** Not run: the runtime is stopping and it had not started, or its batch's thread died first. It goes back to the store uncharged. */
  | { ok: false; skipped: true; durationMs: 0; warnings: [] }
  | { ok: true; durationMs: number; warnings: string[]; skipped?: undefined }
  | {
      ok: false;
      durationMs: number;
      warnings: string[];
      errorName: string;
      message: string;
      /** Stack trace (falls back to name: message). Stored in the job's `exception`. */
      detail: string;
      /** failPermanently(), unknown handler, unreadable payload: no retry can help. */
      permanent: boolean;
      skipped?: undefined;
    };

/** One rule, used by the thread (to call onFailure once) and the master (to fail, not retry). */
export function isFinalFailure(job: { attempts: number; maxAttempts: number }, permanent: boolean): boolean {
  return permanent || job.attempts >= job.maxAttempts;
}
