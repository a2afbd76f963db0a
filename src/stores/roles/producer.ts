// The dispatch path's role, with what only it takes: the application's transaction and the
// class dispatched. Its outcome reads are a role of their own (outcomes.ts).
import type { Enqueued, JobId, NewJob, ScheduleDefinition } from '../rows.js';
import type { OutcomeReader } from './outcomes.js';

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
