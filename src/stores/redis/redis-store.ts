import { chunkJobs } from '../chunk-jobs.js';
import type { Redis } from 'ioredis';
import type {
  ClaimedJob,
  FailedPage,
  FailedSelection,
  JobId,
  JobRecord,
  JobResult,
  JobStatus,
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
  RuntimeStats,
} from '../store.js';
import { OPS_BATCH } from '../store.js';
import { changeFailed, listFailedIds } from './ops.js';
import { RedisConnection } from './connection.js';
import { explainRedisError } from './explain.js';
import { jobKey, ownerKey } from './keys.js';
import { loadScript, queueScript, runScript, type ScriptArg } from './scripts.js';
import { checkRedisServer } from './server-check.js';
import { parseRedisUrl } from './url.js';

// Jobs in Redis: each job a hash, due jobs in sorted sets scored by due time (layout in keys.ts),
// every state change one Lua script (lua/), all times from Redis's own clock.

// Redis allows 512 MB per string; a job payload that large would stall the server for every
// other client while it is copied. 64 MB is far beyond any sensible payload.
const MAX_PAYLOAD_BYTES = 64 * 1024 * 1024;
// A dispatchMany is cut into scripts of at most this many jobs or bytes, so no single script
// holds a huge argument list; the chunks go in one MULTI, so they run back to back with
// consecutive ids, and a connection lost before EXEC stores none of them (no half-stored batch
// for the caller to retry into duplicates).
const ENQUEUE_JOBS_PER_SCRIPT = 1000;
const ENQUEUE_BYTES_PER_SCRIPT = 16 * 1024 * 1024;

export class RedisStore implements JobStore {
  readonly kind = 'redis';
  readonly displayUrl: string;
  /** Every key of this store starts with it. */
  readonly prefix: string;
  private readonly conn: RedisConnection;

  constructor(options: { url: string }) {
    const parsed = parseRedisUrl(options.url);
    this.displayUrl = parsed.displayUrl;
    this.prefix = parsed.prefix;
    this.conn = new RedisConnection(parsed.options, (client) => checkRedisServer(client, this.displayUrl));
  }

  private async run<T>(fn: (client: Redis) => Promise<T>): Promise<T> {
    try {
      return await this.conn.use(fn);
    } catch (e) {
      throw explainRedisError(e, this.displayUrl);
    }
  }

  async maxPayloadBytes(): Promise<number> {
    return MAX_PAYLOAD_BYTES;
  }

  async migrate(params: { dryRun?: boolean }): Promise<MigrationReport> {
    // Nothing to create: keys appear with the first job. Connecting checks the server, so
    // `migrate` and `start` still report an unusable Redis up front.
    await this.run(async (client) => {
      if (!params.dryRun) await client.ping();
    });
    return { statements: [] };
  }

  async enqueue(params: { jobs: NewJob[] }): Promise<JobId[]> {
    const chunks = chunkJobs(params.jobs, ENQUEUE_JOBS_PER_SCRIPT, ENQUEUE_BYTES_PER_SCRIPT);
    if (chunks.length === 0) return [];
    const argsOf = (jobs: NewJob[]): ScriptArg[] => {
      const args: ScriptArg[] = [this.prefix];
      // The field order of lua/enqueue.ts.
      for (const j of jobs) args.push(j.handler, j.queue, j.payload, j.delayMs, j.maxAttempts, j.retryAfterMs, j.timeoutMs ?? '');
      return args;
    };
    const firstIds = await this.run(async (client) => {
      if (chunks.length === 1) return [Number(await runScript(client, 'jobsEnqueue', argsOf(chunks[0]!)))];
      await loadScript(client, 'jobsEnqueue');
      const multi = client.multi();
      for (const c of chunks) queueScript(multi, 'jobsEnqueue', argsOf(c));
      const results = (await multi.exec()) ?? [];
      return results.map(([err, first]) => {
        if (err) throw err;
        return Number(first);
      });
    });
    return chunks.flatMap((c, i) => c.map((_, k) => firstIds[i]! + k));
  }

  async claim(params: { owner: string; queues: string[] | null; limit: number }): Promise<ClaimedJob[]> {
    const { owner, queues, limit } = params;
    if (limit <= 0 || queues?.length === 0) return [];
    const rows = (await this.run((client) => runScript(client, 'jobsClaim', [this.prefix, owner, limit, ...(queues ?? [])]))) as ClaimRow[];
    return rows.map(([id, handler, queue, payload, attempts, maxAttempts, retryAfterMs, timeoutMs, scheduledAt]) => ({
      id: Number(id),
      handler,
      queue,
      payload,
      attempts: Number(attempts),
      maxAttempts: Number(maxAttempts),
      retryAfterMs: Number(retryAfterMs),
      timeoutMs: timeoutMs === null ? null : Number(timeoutMs),
      scheduledAtMs: Number(scheduledAt),
    }));
  }

  async record(params: { owner: string; results: JobResult[]; keepCompleted?: boolean }): Promise<void> {
    const { owner, results } = params;
    if (results.length === 0) return;
    const args: ScriptArg[] = [this.prefix, owner, params.keepCompleted ? '1' : '0'];
    for (const r of results) {
      args.push(r.id, r.outcome, r.outcome === 'completed' ? '' : r.error, r.outcome === 'retry' ? r.delayMs : 0);
    }
    await this.run((client) => runScript(client, 'jobsRecord', args));
  }

  async release(params: { owner: string; ids: JobId[] }): Promise<number> {
    if (params.ids.length === 0) return 0;
    return Number(await this.run((client) => runScript(client, 'jobsRelease', [this.prefix, params.owner, ...params.ids])));
  }

  async releaseUnheld(params: { owner: string; heldIds: JobId[] }): Promise<number> {
    // The owner's set may name jobs a lost claim reply never told us about. The release script
    // re-checks owner and status for each, so reading the set first is safe: this runtime makes
    // no claim meanwhile.
    const held = new Set(params.heldIds);
    const members = await this.run((client) => client.smembers(ownerKey(this.prefix, params.owner)));
    const ids = members.map(Number).filter((id) => Number.isSafeInteger(id) && !held.has(id));
    return this.release({ owner: params.owner, ids });
  }

  async counts(params: { queues?: string[] }): Promise<QueueCounts[]> {
    const queues = [...new Set(params.queues ?? [])];
    const rows = (await this.run((client) => runScript(client, 'jobsCounts', [this.prefix, ...queues]))) as CountRow[];
    return rows
      .map(([queue, waiting, delayed, processing, failed]) => ({ queue, waiting, delayed, processing, failed }))
      .sort((a, b) => (a.queue < b.queue ? -1 : a.queue > b.queue ? 1 : 0));
  }

  async registerRuntime(params: { runtime: RuntimeInfo }): Promise<void> {
    await this.upsertRuntime(params.runtime, { cpuPercent: 0, rssBytes: 0, jobsDone: 0, jobsFailed: 0, busyThreads: 0 });
  }

  async heartbeat(params: { runtime: RuntimeInfo; stats: RuntimeStats }): Promise<void> {
    await this.upsertRuntime(params.runtime, params.stats);
  }

  private async upsertRuntime(r: RuntimeInfo, s: RuntimeStats): Promise<void> {
    const args = [
      this.prefix,
      r.id,
      r.host,
      r.pid,
      r.queues ? r.queues.join(',') : '',
      r.threads,
      s.cpuPercent,
      s.rssBytes,
      s.jobsDone,
      s.jobsFailed,
      s.busyThreads,
    ];
    await this.run((client) => runScript(client, 'jobsUpsertRuntime', args));
  }

  async deregisterRuntime(params: { id: string }): Promise<void> {
    await this.run((client) => runScript(client, 'jobsDeregisterRuntime', [this.prefix, params.id]));
  }

  async listRuntimes(_params: Record<string, never> = {}): Promise<RuntimeRecord[]> {
    const [now, ...rows] = (await this.run((client) => runScript(client, 'jobsListRuntimes', [this.prefix]))) as [string, ...string[][]];
    return rows
      .map(([id, ...pairs]) => {
        const h: Record<string, string> = {};
        for (let i = 0; i + 1 < pairs.length; i += 2) h[pairs[i]!] = pairs[i + 1]!;
        const heartbeatAt = Number(h.heartbeat_at);
        return {
          id: id!,
          host: h.host ?? '',
          pid: Number(h.pid),
          queues: h.queues ? h.queues.split(',') : null,
          threads: Number(h.threads),
          startedAt: new Date(Number(h.started_at)),
          heartbeatAt: new Date(heartbeatAt),
          silentForMs: Number(now) - heartbeatAt,
          cpuPercent: Number(h.cpu_percent),
          rssBytes: Number(h.rss_bytes),
          jobsDone: Number(h.jobs_done),
          jobsFailed: Number(h.jobs_failed),
          busyThreads: Number(h.busy_threads),
        };
      })
      .sort((a, b) => a.startedAt.getTime() - b.startedAt.getTime() || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  async recoverDeadRuntimes(params: { deadAfterMs: number; maxInterruptions: number; alsoDead?: string[] }): Promise<RecoveryReport> {
    const args = [this.prefix, params.deadAfterMs, params.maxInterruptions, ...(params.alsoDead ?? [])];
    const [released, failed, ...runtimes] = (await this.run((client) => runScript(client, 'jobsRecover', args))) as [number, number, ...string[]];
    return { runtimes, released, failed };
  }

  async getJob(params: { id: JobId }): Promise<JobRecord | null> {
    if (!Number.isSafeInteger(params.id) || params.id <= 0) return null;
    const h = await this.run((client) => client.hgetall(jobKey(this.prefix, params.id)));
    return toRecord(params.id, h);
  }

  async listFailed(params: FailedSelection & { limit: number }): Promise<FailedPage> {
    return this.run(async (client) => {
      const { ids, total } = await listFailedIds(client, this.prefix, params);
      const pipe = client.pipeline();
      for (const id of ids) pipe.hgetall(jobKey(this.prefix, id));
      const rows = (await pipe.exec()) ?? [];
      const jobs = rows.map(([, h], k) => toRecord(ids[k]!, h as Record<string, string>)).filter((j): j is JobRecord => j !== null);
      return { jobs, total };
    });
  }

  async retryFailed(params: FailedSelection): Promise<number> {
    return this.run((client) => changeFailed(client, this.prefix, 'jobsRetryFailed', params));
  }

  async deleteFailed(params: FailedSelection): Promise<number> {
    return this.run((client) => changeFailed(client, this.prefix, 'jobsDeleteFailed', params));
  }

  async setQueuePaused(params: { queue: string; paused: boolean }): Promise<boolean> {
    const changed = await this.run((client) => runScript(client, 'jobsSetPaused', [this.prefix, params.queue, params.paused ? '1' : '0']));
    return Number(changed) > 0;
  }

  async listPausedQueues(): Promise<PausedQueue[]> {
    const h = await this.run((client) => client.hgetall(`${this.prefix}paused`));
    return Object.entries(h)
      .map(([queue, at]) => ({ queue, pausedAt: new Date(Number(at)) }))
      .sort((a, b) => (a.queue < b.queue ? -1 : a.queue > b.queue ? 1 : 0));
  }

  async throughput(params: { sinceMs: number }): Promise<QueueThroughput[]> {
    const rows = (await this.run((client) => runScript(client, 'jobsThroughput', [this.prefix, Math.max(0, Math.round(params.sinceMs))]))) as Array<
      [string, number, number]
    >;
    return rows
      .map(([queue, completed, failed]) => ({ queue, completed: Number(completed), failed: Number(failed) }))
      .sort((a, b) => (a.queue < b.queue ? -1 : a.queue > b.queue ? 1 : 0));
  }

  async prune(params: { completedOlderThanMs: number | null; failedOlderThanMs: number | null; batchSize?: number }): Promise<PruneReport> {
    const batch = params.batchSize ?? OPS_BATCH;
    const report: PruneReport = { completed: 0, failed: 0 };
    for (const kind of ['completed', 'failed'] as const) {
      const age = kind === 'completed' ? params.completedOlderThanMs : params.failedOlderThanMs;
      if (age === null) continue;
      // One script per batch: Redis serves claims between them. Throughput counters expire by themselves.
      for (;;) {
        const [deleted, looked] = (await this.run((client) => runScript(client, 'jobsPrune', [this.prefix, kind, age, batch]))) as [number, number];
        report[kind] += Number(deleted);
        if (Number(looked) < batch) break;
      }
    }
    // Queue names nothing refers to any more are dropped, a page per script.
    let cursor = '0';
    do {
      const [next] = (await this.run((client) => runScript(client, 'jobsForgetEmptyQueues', [this.prefix, cursor, batch]))) as [string, number];
      cursor = String(next);
    } while (cursor !== '0');
    return report;
  }

  async acquireLease(params: { name: string; owner: string; ttlMs: number }): Promise<boolean> {
    const held = await this.run((client) => runScript(client, 'jobsLease', [this.prefix, params.name, params.owner, Math.max(1, Math.round(params.ttlMs))]));
    return Number(held) === 1;
  }

  async releaseLease(params: { name: string; owner: string }): Promise<void> {
    await this.run((client) => runScript(client, 'jobsReleaseLease', [this.prefix, params.name, params.owner]));
  }

  async close(): Promise<void> {
    await this.conn.close();
  }
}

type ClaimRow = [number, string, string, string, number, string, string, string | null, string];
type CountRow = [string, number, number, number, number];

/** A job hash as an operator reads it; null when the hash is gone. */
function toRecord(id: JobId, h: Record<string, string>): JobRecord | null {
  if (!h.queue) return null;
  const time = (v: string | undefined) => (v === undefined ? null : new Date(Number(v)));
  return {
    id,
    handler: h.handler ?? '',
    queue: h.queue,
    payload: h.payload ?? '',
    status: (h.status ?? 'new') as JobStatus,
    attempts: Number(h.attempts ?? 0),
    maxAttempts: Number(h.max_attempts ?? 1),
    exception: h.exception ?? null,
    createdAt: time(h.created_at) ?? new Date(0),
    scheduledAt: time(h.scheduled_at) ?? new Date(0),
    failedAt: time(h.failed_at),
    owner: h.owner ?? null,
    interruptions: Number(h.interruptions ?? 0),
  };
}
