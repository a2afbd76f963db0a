// The seam between the runtime and a database, split by who calls it: the application's
// dispatch path sees a Producer, the runtime's claim loop a Queue and a Registry, operators an
// Admin. Every method takes one params object, so a store can grow options without breaking
// callers. A store knows neither the runtime nor the CLI; the runtime never speaks SQL.
import type {
  ClaimedJob,
  Enqueued,
  ScheduleDefinition,
  ScheduleRecord,
  TickOutcome,
  FailedPage,
  FailedSelection,
  ForeignHandlerQueue,
  JobId,
  JobListPage,
  JobListSelection,
  JobRecord,
  JobRef,
  JobOutcomeState,
  JobResult,
  MigrationReport,
  OutcomePage,
  NewJob,
  PausedQueue,
  PruneReport,
  QueueCounts,
  QueueThroughput,
  RecordReport,
  RecoveryReport,
  RuntimeInfo,
  RuntimeRecord,
  RuntimeStats,
  TimeShiftReport,
  ThroughputMinute,
} from './rows.js';

export type * from './rows.js';
export { JOB_LIST_SCAN, JOB_LIST_STATES, MAX_KEY_LENGTH, MAX_RESULT_BYTES, OPS_BATCH, THROUGHPUT_KEEP_MS } from './rows.js';

/**
 * The application's own open transaction, as a dispatch hands it to a store (src/transactions/
 * recognises each library's object): the store writes its rows there and opens nothing itself.
 */
export type AppTransaction =
  | {
      dialect: 'mysql';
      /** The library's name, for messages ('Knex', 'mysql2', …). */
      library: string;
      /** Runs one statement with `?` parameters on the transaction's connection; rows for SELECT / RETURNING. */
      query(sql: string, values: unknown[]): Promise<Array<Record<string, unknown>>>;
    }
  | {
      dialect: 'sqlite';
      library: string;
      /** A better-sqlite3 Database inside db.transaction(): statements run synchronously, in it. */
      handle: import('better-sqlite3').Database;
    };

/** A job class as the dispatch path hands it on: engines that run jobs at dispatch (sync:) need it. */
export type DispatchedClass = abstract new () => object;

/** The dispatch path: all an application that only dispatches ever reaches. */
export interface Producer {
  /** The store's URL as written, password masked: wake-ups and messages name the store by it. */
  readonly displayUrl: string;
  /**
   * Inserts jobs in as few round trips as possible, all or nothing; returns their ids in input
   * order. Refuses (RangeError) a payload larger than the store holds, before anything is written.
   * `jobClass` is the class dispatched: stores ignore it, the sync: engine runs it.
   */
  enqueue(params: { jobs: NewJob[]; jobClass?: DispatchedClass }): Promise<JobId[]>;
  /**
   * As enqueue, saying for each job whether it was a duplicate of a job holding its unique key
   * (NewJob.unique): then its id is the standing job's, and nothing new was stored. The key is
   * enforced by the store itself (an index, a script), never by a read before the write, and
   * within one call too (a later job of the call is a duplicate of an earlier one).
   */
  enqueueWithOutcome(params: { jobs: NewJob[]; jobClass?: DispatchedClass }): Promise<Enqueued[]>;
  /** Largest payload JSON, in UTF-8 bytes, this store accepts. */
  maxPayloadBytes(params?: Record<string, never>): Promise<number>;
  /** Closes connections. Idle connections never keep the process alive, so this is optional. */
  close(): Promise<void>;
  /**
   * The wake-up addresses (`host:port`, UDP) runtimes registered, for a dispatch to signal them
   * on any host; only on stores whose capabilities say `crossHostWake: 'address'`. One plain read.
   */
  wakeAddresses?(params?: Record<string, never>): Promise<string[]>;
  /**
   * Creates or replaces a dynamic schedule (the application's `schedule()`): stored, so it
   * survives restarts and applies to every runtime. Refuses (InvalidInputError) a key a static
   * schedule holds. A changed cron applies from the next tick.
   */
  saveSchedule(params: { schedule: ScheduleDefinition }): Promise<void>;
  /** Removes a dynamic schedule; false when there was none. A static one is left alone (false). */
  removeSchedule(params: { key: string }): Promise<boolean>;
  /**
   * Stores that gather concurrent enqueues into shared writes count them here (writes, and jobs
   * they carried), for tests and benchmarks.
   */
  readonly enqueueStats?: { readonly writes: number; readonly jobs: number };
  /**
   * As enqueueWithOutcome, inside the application's open transaction, with the same statements
   * (priority, unique keys within the call and against standing jobs, limits): the jobs exist if
   * and only if it commits. Refuses, writing nothing, a transaction that already ended or is on
   * another database than this store's. SQLite writes synchronously, before this returns.
   * Stores that cannot share a transaction with the application (Redis) leave it out.
   */
  enqueueInTransaction?(params: { jobs: NewJob[]; transaction: AppTransaction }): Promise<Enqueued[]>;
  /** Whether job `id` is visible (committed) to the store's own connections: after a commit no hook reported. */
  isCommitted?(params: { id: JobId }): Promise<boolean>;
  /**
   * Reads job outcomes (waitFor, jobEvents). On the producer because the application reaches a
   * store only through its producer (openProducer, useStore), and waiting for a job is part of
   * dispatching it; a role of its own so the dispatch path's methods stay what they were and an
   * engine that keeps nothing (sync:, null:) simply has none.
   */
  readonly outcomes?: OutcomeReader;
}

/** The application's reads of outcomes: plain reads, never locks, from any process or host. */
export interface OutcomeReader {
  /**
   * Events whose ids may become visible out of order (MySQL: AUTO_INCREMENT values are taken
   * at insert, rows seen at commit): a follower re-reads the ids it skipped for a while.
   */
  readonly idsCommitOutOfOrder: boolean;
  /** The final (completed or failed) outcome of job `id` if kept, else where the job stands. One or two reads by key. */
  jobOutcome(params: { id: JobId }): Promise<JobOutcomeState>;
  /**
   * Events after `after` (null: from the oldest kept) in id order, of `queues` only when given;
   * `alsoIds` (stores with idsCommitOutOfOrder) are read too, wherever they are. `cursor` is the
   * last id looked at, to pass as the next `after`: past events a queue filter left out (a
   * store that filters after reading), so a follower of a quiet queue never reads them twice.
   * At most `limit` events are looked at.
   */
  outcomeEvents(params: { after: string | null; queues?: string[] | null; limit: number; alsoIds?: string[] }): Promise<OutcomePage>;
  /** The id of the newest event kept (null: none): where a follower without `since` starts. */
  lastEventId(params?: Record<string, never>): Promise<string | null>;
}

/**
 * Wake-ups carried by the store itself (Redis: pub/sub), for stores whose capabilities say
 * `crossHostWake: 'channel'`: every due dispatch signals it, on any host.
 */
export interface WakeChannel {
  /**
   * Calls `onWake` for each signal until the returned function is called; reconnects by itself.
   * `key` names the dispatch announced, as the same-host datagram does (wake/wake-message.ts).
   */
  listen(params: { onWake: (key: string | null) => void }): Promise<() => Promise<void>>;
}

/** The runtime's hot path: claim due jobs, record what became of them, give back what did not run. */
export interface Queue {
  /**
   * Atomically claims up to `limit` due jobs for `owner`: `queues` in strict order (all of the
   * first queue's due jobs before any of the second's), within a queue by priority (lower
   * first), then due time, then id; null means every queue. Increments each job's attempts. Two
   * claimers never get the same job. Reads only the rows it takes, whatever else the store holds.
   * Flow control, all in the same transaction or script as the claim:
   * - a job whose concurrency key already has `limit` jobs processing is not taken: it becomes
   *   'blocked' (attempt not charged) until a job of that key stops processing (recorded,
   *   released, recovered), which puts the first blocked one (claim order) back to 'new';
   * - a job whose rate key has had `limit` starts in the current window is not taken: its due
   *   time moves to the next window plus jitter (attempt not charged);
   * - a unique key held `until: 'started'` is released.
   * A claim may return fewer than `limit` jobs when limits held some back.
   */
  claim(params: { owner: string; queues: string[] | null; limit: number }): Promise<ClaimedJob[]>;
  /**
   * Claims, as `claim` does, those of `ids` that are due, in `queues` (null: any) and not
   * paused, in one round trip; other due jobs are not looked at. For a runtime woken for a
   * dispatch whose ids the wake-up named: it starts them without first searching the queue,
   * then claims as usual, so jobs due before them wait one claim longer at most. Returned by due time then id.
   */
  claimByIds(params: { owner: string; queues: string[] | null; ids: JobId[] }): Promise<ClaimedJob[]>;
  /**
   * Records results of jobs claimed by `owner`, in one round trip where the store allows. Each
   * applies only while that claim (id and token) is still held by `owner`; the others (given
   * back, recovered, claimed again since) are left alone and reported as stale. A job that
   * ends (completed or finally failed) releases its unique key in the same write; a job that
   * stops processing (any outcome) frees its concurrency slot, exactly once, unblocking the next
   * blocked job of its key.
   * With `keepOutcomes`, each result applied also writes its OutcomeEvent (completed, failed,
   * retrying) in the same transaction or script, and a stale one none; without it, no statement
   * more than before.
   */
  record(params: { owner: string; results: JobResult[]; keepCompleted?: boolean; keepOutcomes?: boolean }): Promise<RecordReport>;
  /** Gives back claims `owner` holds but did not start: `new` again, the attempt not charged. */
  release(params: { owner: string; jobs: JobRef[] }): Promise<number>;
  /**
   * Gives back every claim `owner` holds except `held`, as `release` does. After a claim whose
   * outcome is unknown (the reply was lost, the claim may have committed), this returns what it
   * may have taken.
   */
  releaseUnheld(params: { owner: string; held: JobRef[] }): Promise<number>;
}

/** Runtimes, their heartbeats, the recovery of dead ones, and leases for once-per-store work. */
export interface Registry {
  /** Adds this runtime to the registry (or refreshes it) with a fresh heartbeat. */
  registerRuntime(params: { runtime: RuntimeInfo }): Promise<void>;
  /**
   * Records that the runtime is alive, on a connection of its own, failing after `timeoutMs`
   * (StoreUnavailableError) rather than waiting on a silent network. Re-registers a runtime a
   * peer had removed (recovered as dead): `wasRegistered` is then false.
   */
  heartbeat(params: { runtime: RuntimeInfo; stats: RuntimeStats; timeoutMs: number }): Promise<{ wasRegistered: boolean }>;
  /** Removes the runtime from the registry (clean exit). */
  deregisterRuntime(params: { id: string }): Promise<void>;
  listRuntimes(params?: Record<string, never>): Promise<RuntimeRecord[]>;
  /**
   * Gives back the claimed jobs of dead runtimes: those silent for longer than `deadAfterMs`
   * (store clock) and those named in `alsoDead` (known dead by their host). The attempt is not
   * charged; a job interrupted more than `maxInterruptions` times is failed instead. Exactly one
   * caller recovers each dead runtime, however many try at once. As record() does, each job
   * given back or failed frees its concurrency slot; one given back keeps its unique key.
   * With `keepOutcomes`, each job given back writes a 'retrying' event and each failed one a
   * 'failed' event (the interruption as its error), in the same transaction or script.
   */
  recoverDeadRuntimes(params: { deadAfterMs: number; maxInterruptions: number; alsoDead?: string[]; keepOutcomes?: boolean }): Promise<RecoveryReport>;
  /**
   * The orphan sweep: gives back (or fails, as recoverDeadRuntimes does) jobs claimed longer than
   * `deadAfterMs` ago by an owner that is not registered at all (its registration was removed
   * while it ran, or another system wrote the row). Finds them with a plain read, then changes
   * them by id with the conditions checked again, so it locks no other claimed job. One runtime
   * at a time runs it, under a lease (see runtime/orphan-sweep.ts).
   */
  sweepOrphans(params: { deadAfterMs: number; maxInterruptions: number; keepOutcomes?: boolean }): Promise<{ released: number; failed: number }>;
  /**
   * Takes or renews a named lease for `owner` for `ttlMs` (store clock): true when `owner` holds
   * it now. One holder at a time across every runtime and host; a holder that stops renewing
   * loses it once it expires. The pruner runs under one.
   */
  acquireLease(params: { name: string; owner: string; ttlMs: number }): Promise<boolean>;
  /**
   * Records the static schedules `runtimeId` declares (its job classes' `static schedule`),
   * replacing what it declared before: definitions are upserted (the latest declaration wins),
   * and its declarations of keys it no longer has are dropped. A static schedule applies while a
   * registered runtime declares it; deregisterRuntime and the recovery of a dead runtime drop
   * its declarations.
   */
  declareSchedules(params: { runtimeId: string; schedules: ScheduleDefinition[] }): Promise<void>;
  /**
   * Schedules that apply now (dynamic ones, and static ones some registered runtime declares),
   * with the store's clock: ticks are computed against it, so runtimes whose clocks differ agree.
   */
  activeSchedules(params?: Record<string, never>): Promise<{ nowMs: number; schedules: ScheduleRecord[] }>;
  /**
   * Claims tick `tickAtMs` of schedule `key` and enqueues `job` for it, in one transaction or
   * script: the tick is recorded under a unique key (schedule, tick), so however many runtimes
   * call this for the same tick, exactly one job is enqueued. The job is due at the tick
   * (scheduled_at = tickAtMs, `job.delayMs` ignored), so a run reads its tick as its due time
   * (JobContext.scheduledAt). Also moves the schedule's last tick forward (never back). Tick
   * records older than 7 days are pruned.
   */
  enqueueTick(params: { key: string; tickAtMs: number; job: NewJob }): Promise<TickOutcome>;
  /**
   * Gives up a lease `owner` holds (a runtime stopping cleanly), so another takes it at its next
   * try instead of once it expires. A lease held by another owner is left alone.
   */
  releaseLease(params: { name: string; owner: string }): Promise<void>;
}

/** What operators read and change: the schema, counts, single jobs, failed jobs, pauses, retention. */
export interface Admin {
  /**
   * Creates or upgrades the schema in place; idempotent; never drops rows. `requeueLegacyClaimed`:
   * jobs the system this runtime replaces left claimed (MySQL: status 'queued') on
   * `requeueQueues` go back to new, their attempt not charged (a store that holds such jobs
   * refuses it without `requeueQueues`: a PHP worker may be running them); without it they are
   * only reported, in `notices`. `createDatabase`: first create the URL's database when it does
   * not exist (MySQL; other stores have none).
   */
  /** Every schedule, static (even if no runtime declares it any more) and dynamic, by key. */
  listSchedules(params?: Record<string, never>): Promise<ScheduleRecord[]>;
  /**
   * Removes static schedule `key` when no registered runtime declares it any more (its class
   * dropped it, or every runtime that declared it is gone), with its declarations and tick
   * records: its key is free again, and a runtime that declares it later starts it afresh.
   * While a registered runtime declares it nothing changes and `declaredBy` names them, checked
   * under the same lock as a declaration. `removed: false, declaredBy: []`: no static schedule `key`.
   */
  removeUndeclaredSchedule(params: { key: string }): Promise<{ removed: boolean; declaredBy: string[] }>;
  migrate(params: { dryRun?: boolean; requeueLegacyClaimed?: boolean; requeueQueues?: string[]; createDatabase?: boolean }): Promise<MigrationReport>;
  /**
   * Stores another system's workers share (MySQL, with Lightpack's PHP workers): the queues
   * holding rows whose handler is that system's (a PHP class name). Others have none.
   */
  foreignHandlerQueues?(params?: Record<string, never>): Promise<ForeignHandlerQueue[]>;
  /**
   * MySQL: moves the due times of waiting rows the other system wrote in `fromZone`'s wall clock
   * (Lightpack up to v0.8.2) to UTC; `dryRun`: only says what it would change.
   */
  shiftWaitingTimes?(params: { fromZone: string; dryRun: boolean }): Promise<TimeShiftReport>;
  /** Counts per queue; queues with no jobs are left out. */
  counts(params: { queues?: string[] }): Promise<QueueCounts[]>;
  /** One job, for inspection; null when it does not exist (completed jobs are deleted). */
  getJob(params: { id: JobId }): Promise<JobRecord | null>;
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
  listPausedQueues(params?: Record<string, never>): Promise<PausedQueue[]>;
  /**
   * Jobs completed and failed per queue in the current minute and the whole minutes before it
   * that overlap the last `sinceMs` (store clock): every job finished in that window is counted,
   * plus at most the rest of the oldest minute. Kept as one counter per queue and minute,
   * written by record() in the same transaction or script, trimmed after 48 hours.
   */
  throughput(params: { sinceMs: number }): Promise<QueueThroughput[]>;
  /**
   * The same counters minute by minute, oldest first, summed over every queue or for `queue`:
   * minutes with nothing finished are left out. For charts (the dashboard's 1 h and 48 h).
   */
  throughputByMinute(params: { sinceMs: number; queue?: string }): Promise<ThroughputMinute[]>;
  /**
   * One page of a queue's jobs in `state`, index-driven whatever the table holds. Order: SQL
   * stores list every state as a claim takes jobs (priority, due time, id), waiting ones
   * blocked included; Redis lists waiting jobs in claim order, then due ones no claim has moved
   * to its ready set yet (by due time), then blocked ones (by set scan); other states by the
   * time of their set (due, claimed, failed, completed), then id. A malformed `after` is an
   * InvalidInputError.
   */
  listJobs(params: JobListSelection): Promise<JobListPage>;
  /**
   * Deletes completed rows that completed more than `completedOlderThanMs` ago and failed rows
   * that failed more than `failedOlderThanMs` ago (null: keep them), `batchSize` rows per
   * statement or script so no claim waits on it; also trims throughput counters past 48 h.
   * `outcomesOlderThanMs` (absent or null: keep them) deletes outcome events written that long ago.
   */
  prune(params: {
    completedOlderThanMs: number | null;
    failedOlderThanMs: number | null;
    outcomesOlderThanMs?: number | null;
    batchSize?: number;
  }): Promise<PruneReport>;
}

/** What a store needs or offers, for callers that would otherwise test its kind. */
export interface StoreCapabilities {
  /** Its schema must be created with `jobs-runtime migrate` before a runtime starts (MySQL). */
  needsMigrate: boolean;
  /**
   * How a dispatch on another host reaches idle runtimes: 'channel' through the store itself
   * (JobStore.wakeChannel), 'address' by a datagram to the address each runtime registers
   * (Producer.wakeAddresses), 'none' (one host by nature: the same-host wake-up only).
   */
  crossHostWake: 'channel' | 'address' | 'none';
  /**
   * Queue.claimByIds gets a job sooner than Queue.claim (MySQL: one statement by primary key
   * instead of SELECT … FOR UPDATE, then UPDATE): a runtime woken with a job's id claims it
   * that way first, then claims as usual. Elsewhere a claim is one script or statement already,
   * and the second claim would only cost.
   */
  claimByIdsSooner: boolean;
}

/** A store that keeps jobs: every role, over one set of connections. */
export interface JobStore {
  /** 'mysql', 'sqlite', 'redis': for banners and metrics labels, never for branching. */
  readonly kind: string;
  /** The connection URL with any password masked, for banners and logs. */
  readonly displayUrl: string;
  readonly capabilities: StoreCapabilities;
  readonly producer: Producer;
  readonly queue: Queue;
  readonly registry: Registry;
  readonly admin: Admin;
  /** Present when capabilities.crossHostWake is 'channel'. */
  readonly wakeChannel?: WakeChannel;
  /**
   * Calls `listener` when the store's server came back as a different server (Redis: a new
   * run_id, so jobs may be gone), with a message saying so; the runtime adds what it held.
   */
  onServerReplaced?(listener: (message: string) => void): void;
  /** Closes connections (every role's). Optional: idle connections never keep the process alive. */
  close(): Promise<void>;
}
