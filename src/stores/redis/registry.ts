import type { NewJob, RecoveryReport, Registry, RuntimeInfo, RuntimeRecord, RuntimeStats, ScheduleDefinition, ScheduleRecord, TickOutcome } from '../store.js';
import type { RedisDatabase, RunOptions } from './database.js';
import { RedisSchedules } from './schedules.js';
import { runScript } from './scripts.js';

// Runtimes and their heartbeats, crash recovery (lua/recover.ts) and leases, by Redis's clock.

export class RedisRegistry implements Registry {
  private readonly schedules: RedisSchedules;

  constructor(private readonly db: RedisDatabase) {
    this.schedules = new RedisSchedules(db);
  }

  async registerRuntime(params: { runtime: RuntimeInfo }): Promise<void> {
    await this.upsertRuntime(params.runtime, { cpuPercent: 0, rssBytes: 0, jobsDone: 0, jobsFailed: 0, busyThreads: 0 });
  }
  async heartbeat(params: { runtime: RuntimeInfo; stats: RuntimeStats; timeoutMs: number }): Promise<{ wasRegistered: boolean }> {
    const created = await this.upsertRuntime(params.runtime, params.stats, { lane: 'beat', deadlineMs: params.timeoutMs });
    return { wasRegistered: !created };
  }
  /** True when the runtime was not registered. */
  private async upsertRuntime(r: RuntimeInfo, s: RuntimeStats, lane: RunOptions = {}): Promise<boolean> {
    const args = [
      this.db.prefix,
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
      r.slots ?? r.threads,
    ];
    return Number(await this.db.run((client) => runScript(client, 'jobsUpsertRuntime', args), lane)) === 1;
  }
  async deregisterRuntime(params: { id: string }): Promise<void> {
    await this.db.run((client) => runScript(client, 'jobsDeregisterRuntime', [this.db.prefix, params.id]));
  }
  async listRuntimes(_params: Record<string, never> = {}): Promise<RuntimeRecord[]> {
    const [now, ...rows] = (await this.db.run((client) => runScript(client, 'jobsListRuntimes', [this.db.prefix]))) as [string, ...string[][]];
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
          slots: Number(h.slots ?? h.threads),
          wakeAddress: null, // Redis carries wake-ups itself (pub/sub)
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
  async recoverDeadRuntimes(params: { deadAfterMs: number; maxInterruptions: number; alsoDead?: string[]; keepOutcomes?: boolean }): Promise<RecoveryReport> {
    const args = [this.db.prefix, params.deadAfterMs, params.maxInterruptions, params.keepOutcomes ? '1' : '0', ...(params.alsoDead ?? [])];
    const [released, failed, ...runtimes] = (await this.db.run((client) => runScript(client, 'jobsRecover', args))) as [number, number, ...string[]];
    return { runtimes, released, failed };
  }
  async sweepOrphans(params: { deadAfterMs: number; maxInterruptions: number; keepOutcomes?: boolean }): Promise<{ released: number; failed: number }> {
    const args = [this.db.prefix, params.deadAfterMs, params.maxInterruptions, params.keepOutcomes ? '1' : '0'];
    const [released, failed] = (await this.db.run((client) => runScript(client, 'jobsSweepOrphans', args))) as [number, number];
    return { released, failed };
  }
  async acquireLease(params: { name: string; owner: string; ttlMs: number }): Promise<boolean> {
    const held = await this.db.run((client) =>
      runScript(client, 'jobsLease', [this.db.prefix, params.name, params.owner, Math.max(1, Math.round(params.ttlMs))]),
    );
    return Number(held) === 1;
  }
  declareSchedules(params: { runtimeId: string; schedules: ScheduleDefinition[] }): Promise<void> {
    return this.schedules.declare(params.runtimeId, params.schedules);
  }
  activeSchedules(_params: Record<string, never> = {}): Promise<{ nowMs: number; schedules: ScheduleRecord[] }> {
    return this.schedules.read(true);
  }
  enqueueTick(params: { key: string; tickAtMs: number; job: NewJob }): Promise<TickOutcome> {
    return this.schedules.enqueueTick(params.key, params.tickAtMs, params.job);
  }
  async releaseLease(params: { name: string; owner: string }): Promise<void> {
    await this.db.run((client) => runScript(client, 'jobsReleaseLease', [this.db.prefix, params.name, params.owner]));
  }
}
