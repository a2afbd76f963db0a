import {
  OPS_BATCH,
  type Admin,
  type FailedPage,
  type FailedSelection,
  type JobId,
  type JobListPage,
  type JobListSelection,
  type JobRecord,
  type MigrationReport,
  type PausedQueue,
  type PruneReport,
  type QueueCounts,
  type QueueThroughput,
  type ScheduleRecord,
  type ThroughputMinute,
} from '../store.js';
import { listJobsRedis, throughputByMinuteRedis } from './list-jobs.js';
import { toRecord } from './rows.js';
import type { RedisDatabase } from './database.js';
import { evictsExpiringNotice, persistsNothingNotice } from './server-check.js';
import { changeFailed, listFailedIds } from './failed-selection.js';
import { jobKey } from './keys.js';
import { RedisSchedules } from './schedules.js';
import { runScript } from './scripts.js';

// Operators' role on Redis: counts, single jobs, failed jobs, pauses, throughput, pruning.

export class RedisAdmin implements Admin {
  private readonly schedules: RedisSchedules;

  constructor(private readonly db: RedisDatabase) {
    this.schedules = new RedisSchedules(db);
  }

  async listSchedules(_params: Record<string, never> = {}): Promise<ScheduleRecord[]> {
    return (await this.schedules.read(false)).schedules;
  }

  removeUndeclaredSchedule(params: { key: string }): Promise<{ removed: boolean; declaredBy: string[] }> {
    return this.schedules.removeUndeclared(params.key);
  }

  async migrate(params: { dryRun?: boolean }): Promise<MigrationReport> {
    // Nothing to create: keys appear with the first job. Connecting checks the server, so
    // `migrate` and `start` still report an unusable Redis up front. Nothing to convert either:
    // a prefix written before the ready sets (issue 15) keeps its waiting jobs in the scheduled
    // sets, which claims move into the ready sets as they are due (keys.ts).
    await this.db.run(async (client) => {
      if (!params.dryRun) await client.ping();
    });
    // `start` prints notices as warnings: a server that keeps nothing, or may evict the keys
    // that expire, is said up front.
    const server = this.db.server;
    const notices = [
      ...(server?.persistsNothing ? [persistsNothingNotice(this.db.displayUrl)] : []),
      ...(server?.evictsExpiring ? [evictsExpiringNotice(this.db.displayUrl, server.evictsExpiring)] : []),
    ];
    return { statements: [], ...(notices.length > 0 ? { notices } : {}) };
  }
  async counts(params: { queues?: string[] }): Promise<QueueCounts[]> {
    const queues = [...new Set(params.queues ?? [])];
    const rows = (await this.db.run((client) => runScript(client, 'jobsCounts', [this.db.prefix, ...queues]))) as CountRow[];
    return rows
      .map(([queue, waiting, delayed, processing, failed, blocked, rated]) => ({
        queue,
        waiting,
        delayed,
        processing,
        failed,
        // Reported when a limit holds jobs back, as the other stores do.
        ...(blocked > 0 ? { concurrencyLimited: blocked } : {}),
        ...(rated > 0 ? { rateLimited: rated } : {}),
      }))
      .sort((a, b) => (a.queue < b.queue ? -1 : a.queue > b.queue ? 1 : 0));
  }
  async getJob(params: { id: JobId }): Promise<JobRecord | null> {
    if (!Number.isSafeInteger(params.id) || params.id <= 0) return null;
    const [held, ...pairs] = (await this.db.run((client) => runScript(client, 'jobsGetJob', [this.db.prefix, params.id]))) as [number, ...string[]];
    const h: Record<string, string> = {};
    for (let i = 0; i + 1 < pairs.length; i += 2) h[pairs[i]!] = pairs[i + 1]!;
    return toRecord(params.id, h, Number(held) === 1);
  }
  async listFailed(params: FailedSelection & { limit: number }): Promise<FailedPage> {
    return this.db.run(async (client) => {
      const { ids, total } = await listFailedIds(client, this.db.prefix, params);
      const pipe = client.pipeline();
      for (const id of ids) pipe.hgetall(jobKey(this.db.prefix, id));
      const rows = (await pipe.exec()) ?? [];
      const jobs = rows.map(([, h], k) => toRecord(ids[k]!, h as Record<string, string>, false)).filter((j): j is JobRecord => j !== null);
      return { jobs, total };
    });
  }
  async retryFailed(params: FailedSelection): Promise<number> {
    return this.db.run((client) => changeFailed(client, this.db.prefix, 'jobsRetryFailed', params));
  }
  async deleteFailed(params: FailedSelection): Promise<number> {
    return this.db.run((client) => changeFailed(client, this.db.prefix, 'jobsDeleteFailed', params));
  }
  async setQueuePaused(params: { queue: string; paused: boolean }): Promise<boolean> {
    const changed = await this.db.run((client) => runScript(client, 'jobsSetPaused', [this.db.prefix, params.queue, params.paused ? '1' : '0']));
    return Number(changed) > 0;
  }
  async listPausedQueues(): Promise<PausedQueue[]> {
    const h = await this.db.run((client) => client.hgetall(`${this.db.prefix}paused`));
    return Object.entries(h)
      .map(([queue, at]) => ({ queue, pausedAt: new Date(Number(at)) }))
      .sort((a, b) => (a.queue < b.queue ? -1 : a.queue > b.queue ? 1 : 0));
  }
  async throughput(params: { sinceMs: number }): Promise<QueueThroughput[]> {
    const rows = (await this.db.run((client) => runScript(client, 'jobsThroughput', [this.db.prefix, Math.max(0, Math.round(params.sinceMs))]))) as Array<
      [string, number, number]
    >;
    return rows
      .map(([queue, completed, failed]) => ({ queue, completed: Number(completed), failed: Number(failed) }))
      .sort((a, b) => (a.queue < b.queue ? -1 : a.queue > b.queue ? 1 : 0));
  }
  throughputByMinute(params: { sinceMs: number; queue?: string }): Promise<ThroughputMinute[]> {
    return throughputByMinuteRedis(this.db, params);
  }
  listJobs(params: JobListSelection): Promise<JobListPage> {
    return listJobsRedis(this.db, params);
  }
  async prune(params: {
    completedOlderThanMs: number | null;
    failedOlderThanMs: number | null;
    outcomesOlderThanMs?: number | null;
    batchSize?: number;
  }): Promise<PruneReport> {
    const batch = params.batchSize ?? OPS_BATCH;
    const report: PruneReport = { completed: 0, failed: 0 };
    for (const kind of ['completed', 'failed'] as const) {
      const age = kind === 'completed' ? params.completedOlderThanMs : params.failedOlderThanMs;
      if (age === null) continue;
      // One script per batch: Redis serves claims between them. Throughput counters expire by themselves.
      for (;;) {
        const [deleted, looked] = (await this.db.run((client) => runScript(client, 'jobsPrune', [this.db.prefix, kind, age, batch]))) as [number, number];
        report[kind] += Number(deleted);
        if (Number(looked) < batch) break;
      }
    }
    const keep = params.outcomesOlderThanMs;
    if (keep != null) {
      // Events counted are the stream entries trimmed; the final-outcome hashes go a batch per script.
      report.outcomes = 0;
      for (;;) {
        const [hashes, trimmed] = (await this.db.run((client) => runScript(client, 'jobsPruneOutcomes', [this.db.prefix, keep, batch]))) as [number, number];
        report.outcomes += Number(trimmed);
        if (Number(hashes) < batch) break;
      }
    }
    // Queue names nothing refers to any more are dropped, a page per script.
    let cursor = '0';
    do {
      const [next] = (await this.db.run((client) => runScript(client, 'jobsForgetEmptyQueues', [this.db.prefix, cursor, batch]))) as [string, number];
      cursor = String(next);
    } while (cursor !== '0');
    return report;
  }
}

type CountRow = [string, number, number, number, number, number, number];
