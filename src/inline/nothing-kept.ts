import type {
  ClaimedJob,
  FailedPage,
  JobId,
  JobRecord,
  JobStore,
  MigrationReport,
  NewJob,
  PausedQueue,
  PruneReport,
  QueueCounts,
  QueueThroughput,
  RecoveryReport,
  RuntimeInfo,
  RuntimeRecord,
} from '../stores/store.js';

// What the sync: and null: engines share: they keep no job, so there is never anything to
// claim, count, recover or look up, no runtime to register, and nothing to connect to or close.

// No store is behind them, so no store's limit applies; this one matches the Redis store's, so
// a payload accepted here is not absurd anywhere.
const MAX_PAYLOAD_BYTES = 64 * 1024 * 1024;

export abstract class NothingKeptStore implements JobStore {
  abstract readonly kind: string;
  abstract readonly displayUrl: string;
  private lastId = 0;

  abstract enqueue(params: { jobs: NewJob[] }): Promise<JobId[]>;

  /** Ids ascend per store instance, as a real store's do, so callers can tell jobs apart. */
  protected nextId(): JobId {
    return ++this.lastId;
  }

  async maxPayloadBytes(): Promise<number> {
    return MAX_PAYLOAD_BYTES;
  }
  async migrate(_params: { dryRun?: boolean }): Promise<MigrationReport> {
    return { statements: [] };
  }
  async claim(_params: { owner: string; queues: string[] | null; limit: number }): Promise<ClaimedJob[]> {
    return [];
  }
  async record(): Promise<void> {}
  async release(_params: { owner: string; ids: JobId[] }): Promise<number> {
    return 0;
  }

  async releaseUnheld(_params: { owner: string; heldIds: JobId[] }): Promise<number> {
    return 0;
  }
  async counts(_params: { queues?: string[] }): Promise<QueueCounts[]> {
    return [];
  }
  async registerRuntime(_params: { runtime: RuntimeInfo }): Promise<void> {}
  async heartbeat(): Promise<void> {}
  async deregisterRuntime(_params: { id: string }): Promise<void> {}
  async listRuntimes(): Promise<RuntimeRecord[]> {
    return [];
  }
  async recoverDeadRuntimes(): Promise<RecoveryReport> {
    return { runtimes: [], released: 0, failed: 0 };
  }
  async getJob(_params: { id: JobId }): Promise<JobRecord | null> {
    return null;
  }
  async listFailed(): Promise<FailedPage> {
    return { jobs: [], total: 0 };
  }
  async retryFailed(): Promise<number> {
    return 0;
  }
  async deleteFailed(): Promise<number> {
    return 0;
  }
  /** Nothing is ever claimed here, so there is nothing to pause either: always "no change". */
  async setQueuePaused(): Promise<boolean> {
    return false;
  }
  async listPausedQueues(): Promise<PausedQueue[]> {
    return [];
  }
  async throughput(): Promise<QueueThroughput[]> {
    return [];
  }
  async prune(): Promise<PruneReport> {
    return { completed: 0, failed: 0 };
  }
  /** No runtime runs on these engines; a lease is trivially ours. */
  async acquireLease(): Promise<boolean> {
    return true;
  }
  async releaseLease(): Promise<void> {}
  async close(): Promise<void> {}
}
