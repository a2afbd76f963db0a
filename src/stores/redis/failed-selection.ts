import type { Redis } from 'ioredis';
import { OPS_BATCH, type FailedSelection, type JobId } from '../store.js';
import { runScript, type ScriptName } from './scripts.js';

// Operator commands that page through Redis from here, outside a script: listing failed jobs
// and choosing which ones a retry or delete takes. Paging keeps each script small, so Redis is
// never blocked for long; every change itself is a script that checks each job again.

/** Redis's clock, in ms: filters by age agree with the scripts. */
async function redisNow(client: Redis): Promise<number> {
  const [s, us] = await client.time();
  return Number(s) * 1000 + Math.floor(Number(us) / 1000);
}

function queuesOf(client: Redis, prefix: string, sel: FailedSelection): Promise<string[]> {
  return sel.queue !== undefined ? Promise.resolve([sel.queue]) : client.smembers(`${prefix}queues`);
}

/** Ids and failure times of matching failed jobs (handler and age filters applied). */
async function matchingFailed(client: Redis, prefix: string, sel: FailedSelection): Promise<Array<{ id: JobId; at: number }>> {
  const now = await redisNow(client);
  const before = sel.olderThanMs === undefined ? '+inf' : `(${now - sel.olderThanMs}`;
  const found: Array<{ id: JobId; at: number }> = [];
  if (sel.ids) {
    const ids = [...new Set(sel.ids)];
    for (let i = 0; i < ids.length; i += OPS_BATCH) {
      const batch = ids.slice(i, i + OPS_BATCH);
      const pipe = client.pipeline();
      for (const id of batch) pipe.hmget(`${prefix}job:${id}`, 'status', 'queue', 'handler', 'failed_at');
      const rows = (await pipe.exec()) ?? [];
      rows.forEach(([err, f], k) => {
        if (err) throw err;
        const [status, queue, handler, failedAt] = f as Array<string | null>;
        if (status !== 'failed') return;
        if (sel.queue !== undefined && queue !== sel.queue) return;
        if (sel.handler !== undefined && handler !== sel.handler) return;
        if (sel.olderThanMs !== undefined && !(Number(failedAt) < now - sel.olderThanMs)) return;
        found.push({ id: batch[k]!, at: Number(failedAt) });
      });
    }
    return found;
  }
  for (const queue of await queuesOf(client, prefix, sel)) {
    for (let offset = 0; ; offset += OPS_BATCH) {
      const page = await client.zrange(`${prefix}failed:${queue}`, '-inf', before, 'BYSCORE', 'LIMIT', offset, OPS_BATCH, 'WITHSCORES');
      const entries: Array<{ id: JobId; at: number }> = [];
      for (let i = 0; i + 1 < page.length; i += 2) entries.push({ id: Number(page[i]), at: Number(page[i + 1]) });
      if (sel.handler === undefined) found.push(...entries);
      else {
        const pipe = client.pipeline();
        for (const e of entries) pipe.hget(`${prefix}job:${e.id}`, 'handler');
        const handlers = (await pipe.exec()) ?? [];
        for (const [k, e] of entries.entries()) if (handlers[k]?.[1] === sel.handler) found.push(e);
      }
      if (entries.length < OPS_BATCH) break;
    }
  }
  return found;
}

export async function listFailedIds(client: Redis, prefix: string, sel: FailedSelection & { limit: number }): Promise<{ ids: JobId[]; total: number }> {
  const found = await matchingFailed(client, prefix, sel);
  found.sort((a, b) => b.at - a.at || b.id - a.id);
  return { ids: found.slice(0, sel.limit).map((e) => e.id), total: found.length };
}

/** Retries or deletes matching failed jobs, a script per batch; returns how many changed. */
export async function changeFailed(client: Redis, prefix: string, script: ScriptName, sel: FailedSelection): Promise<number> {
  // Chosen once, up front: a retried job that fails again meanwhile is not taken twice.
  const ids = (await matchingFailed(client, prefix, sel)).map((e) => e.id).sort((a, b) => a - b);
  const filters = [sel.queue ?? '', sel.handler ?? '', sel.olderThanMs ?? ''];
  let changed = 0;
  for (let i = 0; i < ids.length; i += OPS_BATCH) {
    changed += Number(await runScript(client, script, [prefix, ...filters, ...ids.slice(i, i + OPS_BATCH)]));
  }
  return changed;
}
