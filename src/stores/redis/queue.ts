import { newClaimToken, refsNotIn } from '../claim-token.js';
import type { ClaimedJob, JobId, JobRef, JobResult, Queue, RecordReport } from '../store.js';
import type { RedisDatabase } from './database.js';
import { jobKey, ownerKey } from './keys.js';
import { runScript, type ScriptArg } from './scripts.js';

/** The claim loop's path: one Lua script per claim, per results batch, per release. */
export class RedisQueue implements Queue {
  constructor(private readonly db: RedisDatabase) {}

  async claim(params: { owner: string; queues: string[] | null; limit: number }): Promise<ClaimedJob[]> {
    const { owner, queues, limit } = params;
    if (limit <= 0 || queues?.length === 0) return [];
    const token = newClaimToken();
    const rows = (await this.db.run((client) =>
      runScript(client, 'jobsClaim', [this.db.prefix, owner, limit, token, Math.random(), ...(queues ?? [])]),
    )) as ClaimRow[];
    return toClaimed(rows, token);
  }

  async claimByIds(params: { owner: string; queues: string[] | null; ids: JobId[] }): Promise<ClaimedJob[]> {
    const { owner, queues, ids } = params;
    if (ids.length === 0 || queues?.length === 0) return [];
    const token = newClaimToken();
    const args = [this.db.prefix, owner, token, Math.random(), queues?.length ?? 0, ...(queues ?? []), ...ids];
    const rows = (await this.db.run((client) => runScript(client, 'jobsClaimIds', args))) as ClaimRow[];
    return toClaimed(rows, token).sort((a, b) => a.scheduledAtMs - b.scheduledAtMs || a.id - b.id);
  }

  async record(params: { owner: string; results: JobResult[]; keepCompleted?: boolean; keepOutcomes?: boolean }): Promise<RecordReport> {
    const { owner, results } = params;
    if (results.length === 0) return { stale: [] };
    const outcomes = params.keepOutcomes === true;
    const args: ScriptArg[] = [this.db.prefix, owner, params.keepCompleted ? '1' : '0', outcomes ? '1' : '0'];
    for (const r of results) {
      args.push(r.id, r.token, r.outcome, r.outcome === 'completed' ? '' : r.error, r.outcome === 'retry' ? r.delayMs : 0);
      // What the event needs; empty without outcomes (the script reads them only with).
      if (outcomes) args.push(r.attempt ?? 0, r.durationMs === undefined ? '' : String(r.durationMs), (r.outcome === 'completed' && r.result) || '');
      else args.push('', '', '');
    }
    const positions = (await this.db.run((client) => runScript(client, 'jobsRecord', args))) as number[];
    return { stale: positions.map((p) => ({ id: results[p - 1]!.id, token: results[p - 1]!.token })) };
  }

  async release(params: { owner: string; jobs: JobRef[] }): Promise<number> {
    if (params.jobs.length === 0) return 0;
    const args: ScriptArg[] = [this.db.prefix, params.owner];
    for (const r of params.jobs) args.push(r.id, r.token);
    return Number(await this.db.run((client) => runScript(client, 'jobsRelease', args)));
  }

  async releaseUnheld(params: { owner: string; held: JobRef[] }): Promise<number> {
    // The owner's set may name jobs a lost claim reply never told us about. The release script
    // re-checks owner, status and token for each, so reading the set first is safe: this
    // runtime makes no claim meanwhile.
    const mine = await this.db.run(async (client) => {
      const ids = (await client.smembers(ownerKey(this.db.prefix, params.owner))).map(Number).filter(Number.isSafeInteger);
      const pipe = client.pipeline();
      for (const id of ids) pipe.hget(jobKey(this.db.prefix, id), 'token');
      const tokens = (await pipe.exec()) ?? [];
      return ids.map((id, k) => ({ id, token: String(tokens[k]?.[1] ?? '') }));
    });
    return this.release({ owner: params.owner, jobs: refsNotIn(mine, params.held) });
  }
}

type ClaimRow = [number, string, string, string, number, string, string, string | null, string, number, string | null];

function toClaimed(rows: ClaimRow[], token: string): ClaimedJob[] {
  return rows.map(([id, handler, queue, payload, attempts, maxAttempts, retryAfterMs, timeoutMs, scheduledAt, priority, retryPolicy]) => ({
    id: Number(id),
    token,
    handler,
    queue,
    payload,
    attempts: Number(attempts),
    maxAttempts: Number(maxAttempts),
    retryAfterMs: Number(retryAfterMs),
    timeoutMs: timeoutMs === null ? null : Number(timeoutMs),
    scheduledAtMs: Number(scheduledAt),
    priority: Number(priority),
    retryPolicy: retryPolicy ?? null,
  }));
}
