// The seam between the runtime and a database, split by who calls it: the application's
// dispatch path sees a Producer, the runtime's claim loop a Queue and a Registry, operators an
// Admin. Every method takes one params object, so a store can grow options without breaking
// callers. A store knows neither the runtime nor the CLI; the runtime never speaks SQL.
// This file is the one import point: it keeps JobStore and StoreCapabilities and re-exports the
// rows (rows.ts) and each role, one file a role under roles/: producer.ts (Producer,
// AppTransaction, DispatchedClass), outcomes.ts (OutcomeReader), queue.ts (Queue), registry.ts
// (Registry), admin.ts (Admin), wake-channel.ts (WakeChannel).
import type { Admin } from './roles/admin.js';
import type { Producer } from './roles/producer.js';
import type { Queue } from './roles/queue.js';
import type { Registry } from './roles/registry.js';
import type { WakeChannel } from './roles/wake-channel.js';

export type * from './rows.js';
export { JOB_LIST_SCAN, JOB_LIST_STATES, MAX_KEY_LENGTH, MAX_RESULT_BYTES, OPS_BATCH, THROUGHPUT_KEEP_MS } from './rows.js';
export type * from './roles/admin.js';
export type * from './roles/outcomes.js';
export type * from './roles/producer.js';
export type * from './roles/queue.js';
export type * from './roles/registry.js';
export type * from './roles/wake-channel.js';

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
