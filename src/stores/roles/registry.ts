// The runtimes' shared bookkeeping: registration, heartbeats, recovery, leases, schedule ticks.
import type { NewJob, RecoveryReport, RuntimeInfo, RuntimeRecord, RuntimeStats, ScheduleDefinition, ScheduleRecord, TickOutcome } from '../rows.js';

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
