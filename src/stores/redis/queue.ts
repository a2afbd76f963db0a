import type { ClaimedJob, JobId, JobResult, Queue } from '../store.js';
import type { RedisDatabase } from './database.js';
import { ownerKey } from './keys.js';
import { runScript, type ScriptArg } from './scripts.js';

/** The claim loop's path: one Lua script per claim, per results batch, per release. */
export class RedisQueue implements Queue {
  constructor(private readonly db: RedisDatabase) {}

  async claim(params: { owner: string; queues: string[] | null; limit: number }): Promise<ClaimedJob[]> {
    const { owner, queues, limit } = params;
    if (limit <= 0 || queues?.length === 0) return [];
    const rows = (await this.db.run((client) => runScript(client, 'jobsClaim', [this.db.prefix, owner, limit, ...(queues ?? [])]))) as ClaimRow[];
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
    const args: ScriptArg[] = [this.db.prefix, owner, params.keepCompleted ? '1' : '0'];
    for (const r of results) {
      args.push(r.id, r.outcome, r.outcome === 'completed' ? '' : r.error, r.outcome === 'retry' ? r.delayMs : 0);
    }
    await this.db.run((client) => runScript(client, 'jobsRecord', args));
  }
  async release(params: { owner: string; ids: JobId[] }): Promise<number> {
    if (params.ids.length === 0) return 0;
    return Number(await this.db.run((client) => runScript(client, 'jobsRelease', [this.db.prefix, params.owner, ...params.ids])));
  }
  async releaseUnheld(params: { owner: string; heldIds: JobId[] }): Promise<number> {
    // The owner's set may name jobs a lost claim reply never told us about. The release script
    // re-checks owner and status for each, so reading the set first is safe: this runtime makes
    // no claim meanwhile.
    const held = new Set(params.heldIds);
    const members = await this.db.run((client) => client.smembers(ownerKey(this.db.prefix, params.owner)));
    const ids = members.map(Number).filter((id) => Number.isSafeInteger(id) && !held.has(id));
    return this.release({ owner: params.owner, ids });
  }
}

type ClaimRow = [number, string, string, string, number, string, string, string | null, string];
