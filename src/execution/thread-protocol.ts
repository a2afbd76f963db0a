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
  /** The task's slot in `ThreadData.slots` (set by the pool; none when every slot is taken). */
  startSlot?: number;
}

export interface ThreadData {
  jobsDir: string;
  /** One Int32 the master sets to 1 on shutdown: tasks not yet started then come back unrun. */
  stopFlag: SharedArrayBuffer;
  /** Where each task stands and since when (`TaskSlots`), for timeouts. */
  slots: SharedArrayBuffer;
  slotsEpoch: number;
  /** Job file → the JavaScript the master compiled it to (TypeScript job files; none for a .js app). */
  compiledJobs?: Record<string, string>;
}

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
      /** No run follows (permanent, or the last attempt): decided in the thread, where onFailure ran. */
      final: boolean;
      skipped?: undefined;
    };

/** One rule, used by the thread (to call onFailure once) and the master (to fail, not retry). */
export function isFinalFailure(job: { attempts: number; maxAttempts: number }, permanent: boolean): boolean {
  return permanent || job.attempts >= job.maxAttempts;
}
