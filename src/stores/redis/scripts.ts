import type { ChainableCommander, Redis } from 'ioredis';
import { CLAIM_IDS_LUA, CLAIM_LUA } from './lua/claim.js';
import { COUNTS_LUA } from './lua/counts.js';
import { ENQUEUE_LUA } from './lua/enqueue.js';
import { PRUNE_OUTCOMES_LUA } from './lua/outcomes.js';
import { RECORD_LUA } from './lua/record.js';
import { RECOVER_LUA, SWEEP_ORPHANS_LUA } from './lua/recover.js';
import { DEREGISTER_RUNTIME_LUA, LIST_RUNTIMES_LUA, UPSERT_RUNTIME_LUA } from './lua/registry.js';
import { RELEASE_LUA } from './lua/release.js';
import { ENQUEUE_TICK_LUA, LIST_SCHEDULES_LUA, REMOVE_SCHEDULE_LUA, REMOVE_UNDECLARED_SCHEDULE_LUA, SAVE_SCHEDULES_LUA } from './lua/schedules.js';
import { DELETE_FAILED_LUA, RETRY_FAILED_LUA } from './lua/failed.js';
import { FORGET_EMPTY_QUEUES_LUA, GET_JOB_LUA, LEASE_LUA, PRUNE_LUA, RELEASE_LEASE_LUA, SET_PAUSED_LUA, THROUGHPUT_LUA } from './lua/ops.js';

// Every operation that must be atomic is one of these scripts. ioredis sends a script's text once
// per connection and its SHA after that (EVALSHA), reloading it after a Redis restart.
// Keys are built inside the scripts from the prefix (ARGV[1]), so they declare none: this store
// needs a standalone Redis or a primary with replicas, not Redis Cluster.

const SCRIPTS = {
  jobsEnqueue: ENQUEUE_LUA,
  jobsClaim: CLAIM_LUA,
  jobsClaimIds: CLAIM_IDS_LUA,
  jobsRecord: RECORD_LUA,
  jobsRelease: RELEASE_LUA,
  jobsCounts: COUNTS_LUA,
  jobsGetJob: GET_JOB_LUA,
  jobsUpsertRuntime: UPSERT_RUNTIME_LUA,
  jobsListRuntimes: LIST_RUNTIMES_LUA,
  jobsDeregisterRuntime: DEREGISTER_RUNTIME_LUA,
  jobsRecover: RECOVER_LUA,
  jobsSweepOrphans: SWEEP_ORPHANS_LUA,
  jobsRetryFailed: RETRY_FAILED_LUA,
  jobsDeleteFailed: DELETE_FAILED_LUA,
  jobsSetPaused: SET_PAUSED_LUA,
  jobsThroughput: THROUGHPUT_LUA,
  jobsPrune: PRUNE_LUA,
  jobsPruneOutcomes: PRUNE_OUTCOMES_LUA,
  jobsForgetEmptyQueues: FORGET_EMPTY_QUEUES_LUA,
  jobsLease: LEASE_LUA,
  jobsReleaseLease: RELEASE_LEASE_LUA,
  jobsSaveSchedules: SAVE_SCHEDULES_LUA,
  jobsRemoveSchedule: REMOVE_SCHEDULE_LUA,
  jobsRemoveUndeclaredSchedule: REMOVE_UNDECLARED_SCHEDULE_LUA,
  jobsListSchedules: LIST_SCHEDULES_LUA,
  jobsEnqueueTick: ENQUEUE_TICK_LUA,
} as const;

export type ScriptName = keyof typeof SCRIPTS;
export type ScriptArg = string | number;

export function defineScripts(client: Redis): void {
  for (const [name, lua] of Object.entries(SCRIPTS)) client.defineCommand(name, { numberOfKeys: 0, lua });
}

type ScriptMethods = Record<ScriptName, (...args: ScriptArg[]) => unknown>;

export function runScript(client: Redis, name: ScriptName, args: ScriptArg[]): Promise<unknown> {
  return (client as unknown as ScriptMethods)[name](...args) as Promise<unknown>;
}

/**
 * Loads a script into the server's cache. A MULTI must do this first: inside a transaction a
 * missing script (after a restart or SCRIPT FLUSH) fails with NOSCRIPT, with no fallback to EVAL.
 */
export async function loadScript(client: Redis, name: ScriptName): Promise<void> {
  await client.script('LOAD', SCRIPTS[name]);
}

/** Adds a script call to a MULTI; its result comes back with the transaction's. */
export function queueScript(multi: ChainableCommander, name: ScriptName, args: ScriptArg[]): void {
  (multi as unknown as ScriptMethods)[name](...args);
}
