// The rows and reports that cross the store seam (see store.ts for the roles that carry them).

export type JobId = number;

/** Rows per statement (or script) of a bulk operator change: retry, forget, flush, prune. */
export const OPS_BATCH = 500;
/** Per-minute throughput counters are kept this long. */
export const THROUGHPUT_KEEP_MS = 48 * 3_600_000;

/** 'blocked': due, waiting for a slot of its concurrency key (a claim found the key full); 'new' again when one frees. */
export type JobStatus = 'new' | 'blocked' | 'processing' | 'failed' | 'completed';

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
  // ---- Flow control (issue 15): each absent field means "none" / the default. ----
  /** −1000…1000, lower runs first (after --queue order, before due time and id). Default 0. */
  priority?: number;
  /** Deduplication: at most one job of this handler holds `key` at a time (see UniqueSpec). */
  unique?: UniqueSpec | null;
  /** At most `limit` jobs with this key run at once, across every runtime (keys are shared by all handlers). */
  concurrency?: ConcurrencySpec | null;
  /** At most `limit` starts per fixed window of `perMs` per key, across every runtime (keys shared by all handlers). */
  rate?: RateSpec | null;
  /**
   * How retries wait when not a fixed `retryAfterMs`: JSON text of a RetryPolicy
   * (values/retry-policy.ts), stored and returned as written; stores never read it.
   */
  retryPolicy?: string | null;
}

/** Longest unique, concurrency or rate key, in characters: every store indexes keys this long. */
export const MAX_KEY_LENGTH = 255;

export interface UniqueSpec {
  /** Non-empty, at most MAX_KEY_LENGTH characters; scoped by the job's handler. */
  key: string;
  /** After this many ms (from the dispatch, store clock) a new job with the key is accepted even if this one still stands; null: no window. */
  forMs: number | null;
  /** 'started': released when a claim takes the job; 'done': when it completes or finally fails. */
  until: 'started' | 'done';
  /** A duplicate of a waiting job: 'skip' leaves it, 'replace' gives it the new payload and due time. */
  onConflict: 'skip' | 'replace';
}

export interface ConcurrencySpec {
  key: string;
  /** At least 1. */
  limit: number;
}

export interface RateSpec {
  key: string;
  /** Starts allowed per window, at least 1. */
  limit: number;
  /** Window length in ms (fixed windows aligned to the epoch, store clock), at least 1. */
  perMs: number;
}

/** What enqueue did with one job. */
export interface Enqueued {
  /** The job's id; for a duplicate, the id of the job that stands. */
  id: JobId;
  /** A unique key was already held: nothing new was stored (with 'replace', the standing job was updated if it waits). */
  duplicate: boolean;
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
  /** As stored (0 when none was given). */
  priority: number;
  /** NewJob.retryPolicy as stored, null when none. */
  retryPolicy: string | null;
}

/**
 * What happened to one claimed job; stores write a batch of these in one round trip. `queue` is
 * the job's queue as claimed: a store may count throughput per queue with it, without reading
 * the row again.
 */
export type JobResult = JobRef & {
  queue: string;
  /** The job class's attempts, for a row that stored none (a PHP class taken over): MySQL writes it with a retry or failure. */
  maxAttempts?: number;
  // ---- What an outcome event needs (issue 17), read only when record() keeps outcomes. ----
  /** This run's number (the claim's attempts), 1 for the first. */
  attempt?: number;
  /** How long run() took, ms. */
  durationMs?: number;
  /** JSON text of what run() returned (completed only; size-capped by the runtime), null when none. */
  result?: string | null;
} & ({ outcome: 'completed' } | { outcome: 'retry'; error: string; delayMs: number } | { outcome: 'failed'; error: string });

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
  priority: number;
  /** The unique key while the job holds it (null once released, or when it had none). */
  uniqueKey: string | null;
  concurrencyKey: string | null;
  rateKey: string | null;
}

export interface QueueCounts {
  queue: string;
  /** Due now, not claimed. */
  waiting: number;
  /** Not due yet (delayed or waiting for a retry). */
  delayed: number;
  processing: number;
  failed: number;
  /** Of `waiting`: jobs held back by a full concurrency key (status blocked). Absent when 0. */
  concurrencyLimited?: number;
  /** Of `delayed`: jobs a rate limit deferred (to their key's next window). Absent when 0. */
  rateLimited?: number;
  /**
   * Jobs another system's workers are running now (MySQL: Lightpack's PHP workers, status
   * 'queued'), not counted in the others. Absent when 0; stores no other system shares leave it out.
   */
  heldElsewhere?: number;
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
  /** Outcome events deleted (issue 17); absent when outcomes were not pruned. */
  outcomes?: number;
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

// The rows of later features, each in a file of its own.
export * from './rows-lightpack.js';
export * from './rows-lists.js';
export * from './rows-outcomes.js';
export * from './rows-schedules.js';
