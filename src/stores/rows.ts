// The rows and reports that cross the store seam (see store.ts for the roles that carry them).

export type JobId = number;

/** Rows per statement (or script) of a bulk operator change: retry, forget, flush, prune. */
export const OPS_BATCH = 500;
/** Per-minute throughput counters are kept this long. */
export const THROUGHPUT_KEEP_MS = 48 * 3_600_000;

export type JobStatus = 'new' | 'processing' | 'failed' | 'completed';

/** A job to insert; every field is already validated. */
export interface NewJob {
  handler: string;
  queue: string;
  /** JSON text of the payload. */
  payload: string;
  /** Run no earlier than this many ms after the store's own clock reads the insert. */
  delayMs: number;
  /** Total runs allowed (the class's `attempts`). */
  maxAttempts: number;
  /** Wait before each retry, in ms. */
  retryAfterMs: number;
  /** Hard time limit for one run, in ms; null = the runtime's default. */
  timeoutMs: number | null;
}

/**
 * One claim of one job: its id and the claim's fencing token. A job claimed again (after its
 * runtime was presumed dead and recovered) gets a new token, so a result or release of the
 * older claim no longer matches and is dropped: it can never land on the newer claim.
 */
export interface JobRef {
  id: JobId;
  /** Made by the store for each claim; opaque to callers. */
  token: string;
}

/** A job claimed by one runtime (`owner`) for running now. */
export interface ClaimedJob extends JobRef {
  handler: string;
  queue: string;
  payload: string;
  /** Runs started so far, including this one. */
  attempts: number;
  maxAttempts: number;
  retryAfterMs: number;
  timeoutMs: number | null;
  /** When the job was due (ms since the epoch, by the store's clock): claim latency = start − this. */
  scheduledAtMs: number;
}

/**
 * What happened to one claimed job; stores write a batch of these in one round trip. `queue` is
 * the job's queue as claimed: a store may count throughput per queue with it, without reading
 * the row again.
 */
export type JobResult = JobRef & { queue: string } & (
    | { outcome: 'completed' }
    | { outcome: 'retry'; error: string; delayMs: number }
    | { outcome: 'failed'; error: string }
  );

/** One row as an operator would read it. */
export interface JobRecord {
  id: JobId;
  handler: string;
  queue: string;
  payload: string;
  status: JobStatus;
  attempts: number;
  maxAttempts: number;
  exception: string | null;
  createdAt: Date;
  scheduledAt: Date;
  failedAt: Date | null;
  owner: string | null;
  /** Times a runtime died while running it. */
  interruptions: number;
}

export interface QueueCounts {
  queue: string;
  /** Due now, not claimed. */
  waiting: number;
  /** Not due yet (delayed or waiting for a retry). */
  delayed: number;
  processing: number;
  failed: number;
}

/** A runtime (master process) as it registers itself. */
export interface RuntimeInfo {
  id: string;
  host: string;
  pid: number;
  /** Null = all queues. */
  queues: string[] | null;
  threads: number;
  /** Job slots: threads × concurrency. Absent when an older version registered it: read as `threads`. */
  slots?: number;
  /**
   * Where dispatchers on other hosts send its wake-up datagram, `host:port` (UDP), on stores whose
   * capabilities say `crossHostWake: 'address'`; absent or null: it listens on this host only.
   */
  wakeAddress?: string | null;
}

/** Figures a runtime reports with each heartbeat. */
export interface RuntimeStats {
  /** CPU use of the master process, percent of one core. */
  cpuPercent: number;
  rssBytes: number;
  jobsDone: number;
  jobsFailed: number;
  busyThreads: number;
}

export interface RuntimeRecord extends RuntimeInfo, RuntimeStats {
  slots: number;
  wakeAddress: string | null;
  startedAt: Date;
  heartbeatAt: Date;
  /** Milliseconds since the last heartbeat, by the store's clock. */
  silentForMs: number;
}

export interface RecoveryReport {
  /** Runtimes found dead and removed. */
  runtimes: string[];
  /** Their claimed jobs put back to `new` (attempt not charged). */
  released: number;
  /** Jobs failed because they were interrupted too many times (poison jobs). */
  failed: number;
}

/**
 * Which failed jobs an operator command acts on. Every given field must match: ids (when given)
 * narrow to those jobs, queue and handler to exact names, olderThanMs to jobs that failed at
 * least that long ago (store clock). Only rows with status 'failed' ever match.
 */
export interface FailedSelection {
  ids?: JobId[];
  queue?: string;
  handler?: string;
  olderThanMs?: number;
}

export interface FailedPage {
  /** Most recent failure first. */
  jobs: JobRecord[];
  /** Failed jobs matching the selection, the listed ones included. */
  total: number;
}

export interface PausedQueue {
  queue: string;
  pausedAt: Date;
}

/** Jobs finished per queue over a window, from the per-minute counters (they outlive the rows). */
export interface QueueThroughput {
  queue: string;
  completed: number;
  failed: number;
}

export interface PruneReport {
  /** Completed rows deleted. */
  completed: number;
  /** Failed rows deleted. */
  failed: number;
}

/** What a results write did. */
export interface RecordReport {
  /** Results of claims the owner no longer holds (given back, recovered, claimed again): not applied. */
  stale: JobRef[];
}

export interface MigrationReport {
  /** Statements run (or, with dryRun, that would run). Empty when already up to date. */
  statements: string[];
  /** What the operator should know or do about the data (e.g. jobs an older system left claimed). */
  notices?: string[];
  /** With `createDatabase` on a store that has one (MySQL): true when it was created, false when it existed. */
  createdDatabase?: boolean;
}
