// The one seam between the runtime and a database. Every method takes a single params object,
// so a store can grow options without breaking callers. A store knows neither the runtime nor
// the CLI; the runtime knows only this interface and never speaks SQL.

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

/** A job claimed by one runtime (`owner`) for running now. */
export interface ClaimedJob {
  id: JobId;
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
export type JobResult = { id: JobId; queue: string } & (
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

export interface MigrationReport {
  /** Statements run (or, with dryRun, that would run). Empty when already up to date. */
  statements: string[];
  /** What the operator should know or do about the data (e.g. jobs an older system left claimed). */
  notices?: string[];
}

export interface JobStore {
  /** 'mysql', 'sqlite', ... */
  readonly kind: string;
  /** The connection URL with any password masked, for banners and logs. */
  readonly displayUrl: string;
  /** Largest payload JSON, in UTF-8 bytes, this store accepts. */
  maxPayloadBytes(): Promise<number>;

  /**
   * Creates or upgrades the schema in place; idempotent; never drops rows. `requeueLegacyClaimed`:
   * jobs the system this runtime replaces left claimed (MySQL: status 'queued') go back to new,
   * their attempt not charged; without it they are only reported, in `notices`.
   */
  migrate(params: { dryRun?: boolean; requeueLegacyClaimed?: boolean }): Promise<MigrationReport>;
  /** Inserts jobs in as few round trips as possible; returns their ids in input order. */
  enqueue(params: { jobs: NewJob[] }): Promise<JobId[]>;
  /**
   * Atomically claims up to `limit` due jobs for `owner`: `queues` in strict order (all of the
   * first queue's due jobs before any of the second's), within a queue by due time then id;
   * null means every queue. Increments each job's attempts. Two claimers never get the same job.
   */
  claim(params: { owner: string; queues: string[] | null; limit: number }): Promise<ClaimedJob[]>;
  /**
   * Records results of jobs claimed by `owner`, in one round trip where the store allows.
   * A result for a job that `owner` no longer holds is ignored (it was given back meanwhile).
   */
  record(params: { owner: string; results: JobResult[]; keepCompleted?: boolean }): Promise<void>;
  /** Gives back jobs claimed by `owner` but not started: `new` again, the attempt not charged. */
  release(params: { owner: string; ids: JobId[] }): Promise<number>;
  /**
   * Gives back every job `owner` holds except `heldIds`, as `release` does. After a claim whose
   * outcome is unknown (the reply was lost, the claim may have committed), this returns what it
   * may have taken.
   */
  releaseUnheld(params: { owner: string; heldIds: JobId[] }): Promise<number>;
  /** Counts per queue; queues with no jobs are left out. */
  counts(params: { queues?: string[] }): Promise<QueueCounts[]>;
  /** Adds this runtime to the registry (or refreshes it) with a fresh heartbeat. */
  registerRuntime(params: { runtime: RuntimeInfo }): Promise<void>;
  /** Records that the runtime is alive; re-registers it if a peer had removed it. */
  heartbeat(params: { runtime: RuntimeInfo; stats: RuntimeStats }): Promise<void>;
  /** Removes the runtime from the registry (clean exit). */
  deregisterRuntime(params: { id: string }): Promise<void>;
  listRuntimes(params: Record<string, never>): Promise<RuntimeRecord[]>;
  /**
   * Gives back the claimed jobs of dead runtimes: those silent for longer than `deadAfterMs`
   * (store clock), those named in `alsoDead` (known dead by their host), and jobs claimed
   * longer than `deadAfterMs` ago by an owner that is not registered at all. The attempt is not
   * charged; a job interrupted more than `maxInterruptions` times is failed instead. Exactly one
   * caller recovers each dead runtime, however many try at once.
   */
  recoverDeadRuntimes(params: { deadAfterMs: number; maxInterruptions: number; alsoDead?: string[] }): Promise<RecoveryReport>;
  /** One job, for inspection; null when it does not exist (completed jobs are deleted). */
  getJob(params: { id: JobId }): Promise<JobRecord | null>;

  // Operations (the status, failed, retry, forget, flush, pause, resume and prune commands).

  /** Failed jobs matching `selection`, most recent failure first, at most `limit`. */
  listFailed(params: FailedSelection & { limit: number }): Promise<FailedPage>;
  /**
   * Puts matching failed jobs back: status new, due now, attempts and interruptions 0, the
   * exception kept until the next run overwrites it. Returns how many.
   */
  retryFailed(params: FailedSelection): Promise<number>;
  /** Deletes matching failed jobs (forget by ids, flush by queue and age), in small batches. Returns how many. */
  deleteFailed(params: FailedSelection): Promise<number>;
  /**
   * Pauses or resumes a queue for every runtime: a claim never takes a paused queue's jobs.
   * Returns false when it already was in that state.
   */
  setQueuePaused(params: { queue: string; paused: boolean }): Promise<boolean>;
  listPausedQueues(params: Record<string, never>): Promise<PausedQueue[]>;
  /**
   * Jobs completed and failed per queue in the current minute and the whole minutes before it
   * that overlap the last `sinceMs` (store clock): every job finished in that window is counted,
   * plus at most the rest of the oldest minute. Kept as one counter per queue and minute,
   * written by record() in the same transaction or script, trimmed after 48 hours.
   */
  throughput(params: { sinceMs: number }): Promise<QueueThroughput[]>;
  /**
   * Deletes completed rows that completed more than `completedOlderThanMs` ago and failed rows
   * that failed more than `failedOlderThanMs` ago (null: keep them), `batchSize` rows per
   * statement or script so no claim waits on it; also trims throughput counters past 48 h.
   */
  prune(params: { completedOlderThanMs: number | null; failedOlderThanMs: number | null; batchSize?: number }): Promise<PruneReport>;
  /**
   * Takes or renews a named lease for `owner` for `ttlMs` (store clock): true when `owner` holds
   * it now. One holder at a time across every runtime and host; a holder that stops renewing
   * loses it once it expires. The pruner runs under one.
   */
  acquireLease(params: { name: string; owner: string; ttlMs: number }): Promise<boolean>;
  /**
   * Gives up a lease `owner` holds (a runtime stopping cleanly), so another takes it at its next
   * try instead of once it expires. A lease held by another owner is left alone.
   */
  releaseLease(params: { name: string; owner: string }): Promise<void>;
  /** Closes connections. Idle connections never keep the process alive, so this is optional. */
  close(): Promise<void>;
}
