import type { Redis } from 'ioredis';
import type { ClaimedJob, JobId, JobRecord, JobResult, JobStatus, JobStore, MigrationReport, NewJob, QueueCounts } from '../store.js';
import { RedisConnection } from './connection.js';
import { explainRedisError } from './explain.js';
import { jobKey } from './keys.js';
import { queueScript, runScript, type ScriptArg } from './scripts.js';
import { checkRedisServer } from './server-check.js';
import { parseRedisUrl } from './url.js';

// Jobs in Redis: each job a hash, due jobs in sorted sets scored by due time (layout in keys.ts),
// every state change one Lua script (lua/), all times from Redis's own clock.

// Redis allows 512 MB per string; a job payload that large would stall the server for every
// other client while it is copied. 64 MB is far beyond any sensible payload.
const MAX_PAYLOAD_BYTES = 64 * 1024 * 1024;
// A dispatchMany is cut into scripts of at most this many jobs or bytes, so no single script
// blocks Redis for long, and the chunks go in one MULTI: all of them run, or none does.
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
    const chunks = chunk(params.jobs);
    if (chunks.length === 0) return [];
    const argsOf = (jobs: NewJob[]): ScriptArg[] => {
      const args: ScriptArg[] = [this.prefix];
      // The field order of lua/enqueue.ts.
      for (const j of jobs) args.push(j.handler, j.queue, j.payload, j.delayMs, j.maxAttempts, j.retryAfterMs, j.timeoutMs ?? '');
      return args;
    };
    const firstIds = await this.run(async (client) => {
      if (chunks.length === 1) return [Number(await runScript(client, 'jobsEnqueue', argsOf(chunks[0]!)))];
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
    return rows.map(([id, handler, queue, payload, attempts, maxAttempts, retryAfterMs, timeoutMs]) => ({
      id: Number(id),
      handler,
      queue,
      payload,
      attempts: Number(attempts),
      maxAttempts: Number(maxAttempts),
      retryAfterMs: Number(retryAfterMs),
      timeoutMs: timeoutMs === null ? null : Number(timeoutMs),
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

  async counts(params: { queues?: string[] }): Promise<QueueCounts[]> {
    const queues = [...new Set(params.queues ?? [])];
    const rows = (await this.run((client) => runScript(client, 'jobsCounts', [this.prefix, ...queues]))) as CountRow[];
    return rows
      .map(([queue, waiting, delayed, processing, failed]) => ({ queue, waiting, delayed, processing, failed }))
      .sort((a, b) => (a.queue < b.queue ? -1 : a.queue > b.queue ? 1 : 0));
  }

  async getJob(params: { id: JobId }): Promise<JobRecord | null> {
    if (!Number.isSafeInteger(params.id) || params.id <= 0) return null;
    const h = await this.run((client) => client.hgetall(jobKey(this.prefix, params.id)));
    if (!h.queue) return null;
    const time = (v: string | undefined) => (v === undefined ? null : new Date(Number(v)));
    return {
      id: params.id,
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
    };
  }

  async close(): Promise<void> {
    await this.conn.close();
  }
}

type ClaimRow = [number, string, string, string, number, string, string, string | null];
type CountRow = [string, number, number, number, number];

function chunk(jobs: NewJob[]): NewJob[][] {
  const chunks: NewJob[][] = [];
  let current: NewJob[] = [];
  let bytes = 0;
  for (const j of jobs) {
    const size = j.payload.length * 3 + j.handler.length + 200; // worst case UTF-8 bytes
    if (current.length > 0 && (current.length >= ENQUEUE_JOBS_PER_SCRIPT || bytes + size > ENQUEUE_BYTES_PER_SCRIPT)) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(j);
    bytes += size;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}
