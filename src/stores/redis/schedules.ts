import type { NewJob, ScheduleDefinition, ScheduleRecord, TickOutcome } from '../store.js';
import { dynamicKeyError, encodeScheduleJob, staticKeyError, toScheduleRecord } from '../schedule-rows.js';
import { wakeEnabled } from '../../wake/wake-dir.js';
import type { RedisDatabase } from './database.js';
import { enqueueFields } from './producer.js';
import { runScript, type ScriptArg } from './scripts.js';

// Recurring schedules on Redis: each operation one script (lua/schedules.ts), by Redis's clock.

export class RedisSchedules {
  constructor(private readonly db: RedisDatabase) {}

  async save(d: ScheduleDefinition): Promise<void> {
    const conflict = await this.write('dynamic', '', [d]);
    if (conflict !== null) throw staticKeyError(conflict);
  }

  async declare(runtimeId: string, schedules: ScheduleDefinition[]): Promise<void> {
    const conflict = await this.write('static', runtimeId, schedules);
    if (conflict !== null) throw dynamicKeyError(conflict);
  }

  async remove(key: string): Promise<boolean> {
    return Number(await this.db.run((client) => runScript(client, 'jobsRemoveSchedule', [this.db.prefix, key]))) === 1;
  }

  async removeUndeclared(key: string): Promise<{ removed: boolean; declaredBy: string[] }> {
    const [removed, ...by] = (await this.db.run((client) => runScript(client, 'jobsRemoveUndeclaredSchedule', [this.db.prefix, key]))) as [number, ...string[]];
    return { removed: Number(removed) === 1, declaredBy: by.map(String).sort() };
  }

  /** Every schedule (`active`: only those that apply now) and Redis's time, in one read. */
  async read(active: boolean): Promise<{ nowMs: number; schedules: ScheduleRecord[] }> {
    const [now, ...rows] = (await this.db.run((client) => runScript(client, 'jobsListSchedules', [this.db.prefix, active ? '1' : '0']))) as [
      string,
      ...Array<[string, string[], string[]]>,
    ];
    const schedules = rows.map(([key, pairs, by]) => {
      const h: Record<string, string> = {};
      for (let i = 0; i + 1 < pairs.length; i += 2) h[pairs[i]!] = pairs[i + 1]!;
      return toScheduleRecord({
        key,
        kind: h.kind ?? 'dynamic',
        cron: h.cron ?? '',
        tz: h.tz ?? 'UTC',
        misfire: h.misfire ?? 'skip',
        job: h.job ?? '{}',
        lastTickAtMs: h.last_tick_at === undefined ? null : Number(h.last_tick_at),
        lastJobId: h.last_job_id === undefined ? null : Number(h.last_job_id),
        updatedAtMs: Number(h.updated_at),
        declaredBy: by,
      });
    });
    return { nowMs: Number(now), schedules };
  }

  async enqueueTick(key: string, tickAtMs: number, job: NewJob): Promise<TickOutcome> {
    const wake = wakeEnabled() ? '1' : '0';
    const args: ScriptArg[] = [this.db.prefix, wake, key, Math.round(tickAtMs), ...enqueueFields(job)];
    const reply = (await this.db.run((client) => runScript(client, 'jobsEnqueueTick', args))) as number[];
    if (reply.length === 0) return { id: null, enqueued: false };
    return { id: Number(reply[0]), enqueued: Number(reply[1]) === 1 };
  }

  /** The key another kind holds (nothing written then), or null. */
  private async write(kind: 'static' | 'dynamic', runtimeId: string, schedules: ScheduleDefinition[]): Promise<string | null> {
    const args: ScriptArg[] = [this.db.prefix, kind, runtimeId];
    for (const d of schedules) args.push(d.key, d.cron, d.tz, d.misfire, encodeScheduleJob(d.job));
    const [status, key] = (await this.db.run((client) => runScript(client, 'jobsSaveSchedules', args))) as [string, string?];
    return status === 'conflict' ? (key ?? '') : null;
  }
}
