import { chunkJobs } from '../chunk-jobs.js';
import { EnqueueCoalescer, type EnqueueStats } from '../enqueue-coalescer.js';
import type { Enqueued, JobId, NewJob, OutcomeReader, Producer, ScheduleDefinition } from '../store.js';
import { wakeEnabled } from '../../wake/wake-dir.js';
import type { RedisDatabase } from './database.js';
import { RedisSchedules } from './schedules.js';
import { loadScript, queueScript, runScript, type ScriptArg } from './scripts.js';

// Redis allows 512 MB per string; a job payload that large would stall the server for every
// other client while it is copied. 64 MB is far beyond any sensible payload.
const MAX_PAYLOAD_BYTES = 64 * 1024 * 1024;
// A dispatchMany is cut into scripts of at most this many jobs or bytes, so no single script
// holds a huge argument list; the chunks go in one MULTI, so they run back to back with
// consecutive ids, and a connection lost before EXEC stores none of them (no half-stored batch
// for the caller to retry into duplicates).
const ENQUEUE_JOBS_PER_SCRIPT = 1000;
const ENQUEUE_BYTES_PER_SCRIPT = 16 * 1024 * 1024;

/**
 * Dispatch: one enqueue script per chunk, the chunks of a dispatchMany in one MULTI; concurrent
 * dispatches gather into one script while another is in flight (enqueue-coalescer.ts).
 */
export class RedisProducer implements Producer {
  private readonly coalescer: EnqueueCoalescer;
  private readonly schedules: RedisSchedules;

  constructor(
    private readonly db: RedisDatabase,
    readonly outcomes?: OutcomeReader,
  ) {
    this.schedules = new RedisSchedules(db);
    this.coalescer = new EnqueueCoalescer({
      store: 'redis',
      maxPayloadBytes: () => this.maxPayloadBytes(),
      statementLimit: () => ({ rows: ENQUEUE_JOBS_PER_SCRIPT, bytes: ENQUEUE_BYTES_PER_SCRIPT }),
      write: (jobs) => this.insert(jobs),
    });
  }

  get enqueueStats(): EnqueueStats {
    return this.coalescer.stats;
  }

  get displayUrl(): string {
    return this.db.displayUrl;
  }

  async maxPayloadBytes(): Promise<number> {
    return MAX_PAYLOAD_BYTES;
  }

  close(): Promise<void> {
    return this.db.close();
  }

  saveSchedule(params: { schedule: ScheduleDefinition }): Promise<void> {
    return this.schedules.save(params.schedule);
  }

  removeSchedule(params: { key: string }): Promise<boolean> {
    return this.schedules.remove(params.key);
  }

  async enqueueWithOutcome(params: { jobs: NewJob[] }): Promise<Enqueued[]> {
    return (await this.coalescer.enqueue(params.jobs)).map(toEnqueued);
  }

  async enqueue(params: { jobs: NewJob[] }): Promise<JobId[]> {
    return (await this.coalescer.enqueue(params.jobs)).map((id) => Math.abs(id));
  }

  /**
   * Jobs whose payloads were checked, all or nothing: one script, or several in one MULTI. The
   * coalescer carries ids only, so a duplicate comes back as its standing job's id negated
   * (toEnqueued reads it); ids are positive, so nothing else is ever negative.
   */
  private async insert(jobs: NewJob[]): Promise<JobId[]> {
    const chunks = chunkJobs(jobs, ENQUEUE_JOBS_PER_SCRIPT, ENQUEUE_BYTES_PER_SCRIPT);
    if (chunks.length === 0) return [];
    const wake = wakeEnabled() ? '1' : '0'; // JOBS_WAKE=0 in this process: announce nothing
    const argsOf = (jobs: NewJob[]): ScriptArg[] => {
      const args: ScriptArg[] = [this.db.prefix, wake, jobs.some((j) => j.unique) ? '1' : '0'];
      for (const j of jobs) args.push(...enqueueFields(j));
      return args;
    };
    // A chunk without unique keys answers its first id (its ids are consecutive), one with them every id.
    const idsOf = (chunk: NewJob[], reply: unknown): JobId[] => (Array.isArray(reply) ? reply.map(Number) : chunk.map((_, k) => Number(reply) + k));
    return this.db.run(async (client) => {
      if (chunks.length === 1) return idsOf(chunks[0]!, await runScript(client, 'jobsEnqueue', argsOf(chunks[0]!)));
      await loadScript(client, 'jobsEnqueue');
      const multi = client.multi();
      for (const c of chunks) queueScript(multi, 'jobsEnqueue', argsOf(c));
      const results = (await multi.exec()) ?? [];
      return results.flatMap(([err, reply], i) => {
        if (err) throw err;
        return idsOf(chunks[i]!, reply);
      });
    });
  }
}

function toEnqueued(id: JobId): Enqueued {
  return id < 0 ? { id: -id, duplicate: true } : { id, duplicate: false };
}

/** One job's ENQUEUE_FIELDS, in the order lua/enqueue.ts reads them ('' for none). */
export function enqueueFields(j: NewJob): ScriptArg[] {
  const u = j.unique;
  const c = j.concurrency;
  const r = j.rate;
  return [
    j.handler,
    j.queue,
    j.payload,
    j.delayMs,
    j.maxAttempts,
    j.retryAfterMs,
    j.timeoutMs ?? '',
    j.priority ?? 0,
    j.retryPolicy ?? '',
    u?.key ?? '',
    u?.until ?? '',
    u?.forMs ?? '',
    u?.onConflict ?? '',
    c?.key ?? '',
    c?.limit ?? '',
    r?.key ?? '',
    r?.limit ?? '',
    r?.perMs ?? '',
  ];
}
