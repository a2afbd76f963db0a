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
  /** When the job was due, by the store's clock: a schedule's tick, for a job a schedule enqueued. */
  scheduledAtMs: number;
  /**
   * A row another system dispatched (a PHP class taken over from Lightpack): attempts and the
   * retry wait come from the job class, not the row, which has neither.
   */
  settingsFromClass?: boolean;
  /** The task's slot in `ThreadData.slots` (set by the pool; none when every slot is taken). */
  startSlot?: number;
}

export interface ThreadData {
  jobsDir: string;
  /** One Int32 the master sets to 1 on shutdown: tasks not yet started then come back unrun. */
  stopFlag: SharedArrayBuffer;
  /** Where each task stands (`TaskSlots`): how a thread takes a job, and the master follows it. */
  slots: SharedArrayBuffer;
  slotsEpoch: number;
  /** Which job file each thread is importing at start (`PreloadBoard`). */
  preload: SharedArrayBuffer;
  preloadEpoch: number;
  /** Job file → the JavaScript the master compiled it to (TypeScript job files; none for a .js app). */
  compiledJobs?: Record<string, string>;
  /** The runtime keeps outcomes: run()'s return value travels back as JSON (job-result-value.ts). Otherwise it is ignored, at no cost. */
  keepResults?: boolean;
}

/**
 * What the pool sends a thread: one job; a batch of short jobs run one after another (a message
 * per job would cost more than such jobs); or, once per thread at start, a warm-up that begins
 * the import of every job file.
 */
export type ThreadInput = JobTask | { batch: JobTask[] } | { warmUp: true };

/**
 * What comes back, in the input's shape: null for a job the thread did not start (the master
 * took it back, or the runtime is stopping). A batch ends early after a job whose result has
 * details (a failure, warnings), so that they are never held behind, or lost with, a later job.
 */
export type ThreadReply = JobTaskResult | null | Array<JobTaskResult | null>;

export type JobTaskResult =
  /** Not run: the runtime is stopping and it had not started. It goes back to the store uncharged. */
  | { ok: false; skipped: true; durationMs: 0; warnings: [] }
  /** `result`: JSON text of run()'s return value, when the runtime keeps outcomes and it was plain JSON within the limit. */
  | { ok: true; durationMs: number; warnings: string[]; result?: string; skipped?: undefined }
  | {
      ok: false;
      durationMs: number;
      warnings: string[];
      errorName: string;
      message: string;
      /** Stack trace (falls back to name: message). Stored in the job's `exception`. */
      detail: string;
      /** The app's file and line it was thrown from (throw-site), for the ✖ line. */
      thrownAt?: string;
      /** failPermanently(), unknown handler, unreadable payload: no retry can help. */
      permanent: boolean;
      /** No run follows (permanent, or the last attempt): decided in the thread, where onFailure ran. */
      final: boolean;
      /** The class's retryAfter function's wait for the next run, ms (values/retry-policy.ts). */
      retryInMs?: number;
      /** The class's attempts, when the task said settingsFromClass: what the ✖ line shows. */
      maxAttempts?: number;
      skipped?: undefined;
    };

/** One rule, used by the thread (to call onFailure once) and the master (to fail, not retry). */
export function isFinalFailure(job: { attempts: number; maxAttempts: number }, permanent: boolean): boolean {
  return permanent || job.attempts >= job.maxAttempts;
}
