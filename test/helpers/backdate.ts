import Database from 'better-sqlite3';
import { Redis } from 'ioredis';
import mysql from 'mysql2/promise';
import { readyScore } from '../../src/stores/redis/lua/flow.ts';
import type { JobId } from '../../src/stores/store.ts';

// Time in store tests comes from backdated rows, not from sleeps: each store's own raw access
// moves a stored time into the past, so "due", "dead", "expired" or "older than" is reached at
// once and by a wide margin (a slow machine cannot overshoot it). Every store keeps its times
// by its own clock (MySQL's, Redis's, this process's for SQLite); moving them relative to
// themselves leaves that clock in charge.

/** Which time of a job to move: when it is due, was claimed, failed, or completed (kept with keepCompleted). */
export type JobTime = 'scheduled' | 'claimed' | 'failed' | 'completed';

export interface Backdate {
  /** Moves one time of each job `ms` into the past. */
  jobs(ids: JobId[], ms: number, time: JobTime): Promise<void>;
  /** Moves a registered runtime's last heartbeat `ms` into the past. */
  heartbeat(runtimeId: string, ms: number): Promise<void>;
  /** Moves a lease's expiry `ms` closer (Redis: shortens its TTL; at or past 0 it is gone). */
  lease(name: string, ms: number): Promise<void>;
  /** Moves when every kept job outcome (issue 17) was written `ms` into the past. */
  outcomes(ms: number): Promise<void>;
  /** Moves a schedule's last change (updatedAt) and its last tick, if any, `ms` into the past. */
  schedule(key: string, ms: number): Promise<void>;
}

const COLUMN: Record<JobTime, string> = { scheduled: 'scheduled_at', claimed: 'claimed_at', failed: 'failed_at', completed: 'completed_at' };

/** The raw backdating of a store of `kind` at `url` (a connection per call: nothing to close). */
export function backdateFor(kind: string, url: string): Backdate {
  if (kind === 'sqlite') return sqliteBackdate(url.replace(/^sqlite:/, ''));
  if (kind === 'mysql') return mysqlBackdate(url);
  if (kind === 'redis') return redisBackdate(url);
  throw new Error(`no raw backdating for a store of kind ${kind}`);
}

function sqliteBackdate(file: string): Backdate {
  const run = (sql: string, ...args: unknown[]) => {
    const db = new Database(file, { timeout: 10_000 });
    try {
      db.prepare(sql).run(...args);
    } finally {
      db.close();
    }
  };
  return {
    async jobs(ids, ms, time) {
      const c = COLUMN[time];
      run(`UPDATE jobs SET ${c} = ${c} - ? WHERE id IN (SELECT value FROM json_each(?))`, ms, JSON.stringify(ids));
    },
    async heartbeat(runtimeId, ms) {
      run('UPDATE jobs_runtimes SET heartbeat_at = heartbeat_at - ? WHERE id = ?', ms, runtimeId);
    },
    async lease(name, ms) {
      run('UPDATE jobs_leases SET expires_at = expires_at - ? WHERE name = ?', ms, name);
    },
    async outcomes(ms) {
      run('UPDATE jobs_outcomes SET at = at - ?', ms);
    },
    async schedule(key, ms) {
      run('UPDATE jobs_schedules SET updated_at = updated_at - ?, last_tick_at = last_tick_at - ? WHERE key = ?', ms, ms, key);
    },
  };
}

function mysqlBackdate(url: string): Backdate {
  const run = async (sql: string, args: unknown[]) => {
    const conn = await mysql.createConnection({ uri: url, timezone: 'Z' });
    try {
      await conn.query(sql, args);
    } finally {
      await conn.end();
    }
  };
  return {
    async jobs(ids, ms, time) {
      const c = COLUMN[time];
      await run(`UPDATE jobs SET ${c} = ${c} - INTERVAL ? MICROSECOND WHERE id IN (?)`, [ms * 1000, ids]);
    },
    async heartbeat(runtimeId, ms) {
      await run('UPDATE jobs_runtimes SET heartbeat_at = heartbeat_at - INTERVAL ? MICROSECOND WHERE id = ?', [ms * 1000, runtimeId]);
    },
    async lease(name, ms) {
      await run('UPDATE jobs_leases SET expires_at = expires_at - INTERVAL ? MICROSECOND WHERE name = ?', [ms * 1000, name]);
    },
    async outcomes(ms) {
      await run('UPDATE jobs_outcomes SET at = at - INTERVAL ? MICROSECOND', [ms * 1000]);
    },
    async schedule(key, ms) {
      await run('UPDATE jobs_schedules SET updated_at = updated_at - INTERVAL ? MICROSECOND, last_tick_at = last_tick_at - ? WHERE schedule_key = ?', [
        ms * 1000,
        ms,
        key,
      ]);
    },
  };
}

// Redis keeps a time twice, in the job's (or runtime's) hash and as the score of the sorted set
// the scripts read it from (src/stores/redis/keys.ts): both move together.
function redisBackdate(url: string): Backdate {
  const parsed = new URL(url);
  const p = parsed.searchParams.get('prefix') ?? 'jobs:';
  parsed.search = '';
  const run = async (fn: (client: Redis) => Promise<void>) => {
    const client = new Redis(parsed.toString(), { lazyConnect: true, retryStrategy: () => null });
    try {
      await client.connect();
      await fn(client);
    } finally {
      client.disconnect();
    }
  };
  const member = (id: JobId) => String(id).padStart(16, '0');
  // The event stream's ids are its times (Redis clock ms-seq): it is written again with every id moved.
  const outcomes = (ms: number) =>
    run(async (client) => {
      const entries = (await client.xrange(`${p}events`, '-', '+')) as Array<[string, string[]]>;
      await client.del(`${p}events`);
      for (const [id, fields] of entries) {
        const [t, seq] = id.split('-');
        await client.xadd(`${p}events`, `${Number(t) - ms}-${seq}`, ...fields);
      }
      const kept = await client.zrange(`${p}outcomes`, 0, -1, 'WITHSCORES');
      for (let k = 0; k + 1 < kept.length; k += 2) await client.zadd(`${p}outcomes`, Number(kept[k + 1]) - ms, kept[k]!);
    });
  return {
    outcomes,
    jobs: (ids, ms, time) =>
      run(async (client) => {
        for (const id of ids) {
          const key = `${p}job:${id}`;
          const [queue, status, scheduledAt, claimedAt, failedAt, priority, concKey] = await client.hmget(
            key,
            'queue',
            'status',
            'scheduled_at',
            'claimed_at',
            'failed_at',
            'priority',
            'conc_key',
          );
          if (queue === null) throw new Error(`backdate: no job ${id} under ${p}`);
          if (time === 'scheduled') {
            const at = Number(scheduledAt) - ms;
            const m = member(id);
            await client.hset(key, 'scheduled_at', String(at));
            // A waiting job is in the scheduled sets (by due time) or the ready sets (by priority, then due time).
            const ready = readyScore(Number(priority ?? 0), at);
            if (status === 'new') {
              await Promise.all([
                client.zadd(`${p}due`, 'XX', at, m),
                client.zadd(`${p}due:${queue}`, 'XX', at, m),
                client.zadd(`${p}qrated:${queue}`, 'XX', at, m),
                client.zadd(`${p}ready`, 'XX', ready, m),
                client.zadd(`${p}ready:${queue}`, 'XX', ready, m),
              ]);
            } else if (status === 'blocked' && concKey !== null) await client.zadd(`${p}cblocked:${concKey}`, 'XX', ready, m);
          } else if (time === 'claimed') {
            // The owners set's score (an owner's last claim) is left alone: recovery reads every owner.
            const at = Number(claimedAt) - ms;
            await client.hset(key, 'claimed_at', String(at));
            await client.zadd(`${p}active:${queue}`, 'XX', at, member(id));
          } else if (time === 'failed') {
            const at = Number(failedAt) - ms;
            await client.hset(key, 'failed_at', String(at));
            await client.zadd(`${p}failed:${queue}`, 'XX', at, member(id));
          } else {
            const set = `${p}completed:${queue}`;
            await client.zadd(set, 'XX', Number(await client.zscore(set, member(id))) - ms, member(id));
          }
        }
      }),
    heartbeat: (runtimeId, ms) =>
      run(async (client) => {
        const at = Number(await client.hget(`${p}runtime:${runtimeId}`, 'heartbeat_at')) - ms;
        await client.hset(`${p}runtime:${runtimeId}`, 'heartbeat_at', String(at));
        await client.zadd(`${p}runtimes`, 'XX', at, runtimeId);
      }),
    lease: (name, ms) =>
      run(async (client) => {
        const key = `${p}lease:${name}`;
        const ttl = await client.pttl(key);
        if (ttl < 0) throw new Error(`backdate: lease ${key} ${ttl === -2 ? 'does not exist' : 'has no TTL'}`);
        if (ttl > ms) await client.pexpire(key, ttl - ms);
        else await client.del(key);
      }),
    schedule: (key, ms) =>
      run(async (client) => {
        const h = `${p}schedule:${key}`;
        const [updatedAt, lastTickAt] = await client.hmget(h, 'updated_at', 'last_tick_at');
        if (updatedAt === null) throw new Error(`backdate: no schedule ${h}`);
        await client.hset(h, 'updated_at', String(Number(updatedAt) - ms));
        if (lastTickAt !== null) await client.hset(h, 'last_tick_at', String(Number(lastTickAt) - ms));
      }),
  };
}
