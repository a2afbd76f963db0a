import type { Redis } from 'ioredis';
import { StoreUnavailableError } from '../../errors.js';

// Checked on every connect, before the first operation:
// - Redis 6.2+: claims read due jobs with ZRANGE … BYSCORE LIMIT.
// - No allkeys-* eviction: it would drop job keys silently under memory pressure. The volatile-*
//   policies never drop a job (job keys never expire), but may drop the keys that do: unique
//   keys' 'for' windows, rate-limit windows, leases. Said at start (RedisServerFacts).
// And read, for honesty about what Redis keeps (see RedisServerFacts).

/** What the store says about its server, beyond refusing an unusable one. */
export interface RedisServerFacts {
  /** INFO's run_id: a new one means another process (a restart, or a failover to another server). */
  runId: string;
  /** True when the server keeps nothing on disk (appendonly no and an empty `save`): a restart loses every job. Null: CONFIG is not allowed here. */
  persistsNothing: boolean | null;
  /** A volatile-* maxmemory-policy under a memory limit (its name), else null: expiring keys may go early. */
  evictsExpiring: string | null;
}

export async function checkRedisServer(client: Redis, displayUrl: string): Promise<RedisServerFacts> {
  const info = await client.info();
  const field = (name: string) => new RegExp(`^${name}:(.*)$`, 'm').exec(info)?.[1]?.trim();
  const version = field('redis_version') ?? '';
  const m = /^(\d+)\.(\d+)/.exec(version);
  if (m && (Number(m[1]) < 6 || (Number(m[1]) === 6 && Number(m[2]) < 2))) {
    throw new StoreUnavailableError(`Redis ${version} at ${displayUrl} is too old: jobs-runtime needs Redis 6.2 or newer`);
  }
  const policy = field('maxmemory_policy') ?? 'noeviction';
  if (policy.startsWith('allkeys-')) {
    throw new StoreUnavailableError(
      `Redis at ${displayUrl} has maxmemory-policy ${policy}, which would evict jobs silently: ` +
        `set it to noeviction (CONFIG SET maxmemory-policy noeviction) or use a Redis of its own for jobs`,
    );
  }
  const evictsExpiring = policy.startsWith('volatile-') && Number(field('maxmemory') ?? 0) > 0 ? policy : null;
  return { runId: field('run_id') ?? '', persistsNothing: field('aof_enabled') === '1' ? false : await snapshotsOff(client), evictsExpiring };
}

/** RDB snapshots: `save ""` turns them off. Managed services often refuse CONFIG: then unknown. */
async function snapshotsOff(client: Redis): Promise<boolean | null> {
  try {
    const reply = (await client.config('GET', 'save')) as string[];
    return (reply[1] ?? '').trim() === '';
  } catch {
    return null;
  }
}

/** The start warning for a server that keeps nothing. */
export function persistsNothingNotice(displayUrl: string): string {
  return (
    `Redis at ${displayUrl} persists nothing (appendonly no, save ""): if it restarts, every job in it is lost. ` +
    'Turn on AOF (CONFIG SET appendonly yes, and in redis.conf) unless losing jobs is acceptable'
  );
}

/** The start warning for a volatile-* eviction policy under a memory limit. */
export function evictsExpiringNotice(displayUrl: string, policy: string): string {
  return (
    `Redis at ${displayUrl} has maxmemory-policy ${policy}: under memory pressure it evicts keys that expire, which here are ` +
    "unique keys' 'for' windows, rate-limit windows and leases (never jobs), so a duplicate or a start over a rate limit " +
    'could slip through. Use noeviction (CONFIG SET maxmemory-policy noeviction) for a Redis that holds jobs'
  );
}

/** The warning for a server that came back as another process: what may be gone depends on what it persists. */
export function serverReplacedNotice(displayUrl: string, before: RedisServerFacts, now: RedisServerFacts): string {
  const lost =
    now.persistsNothing === true
      ? 'it persists nothing, so every job it held is gone'
      : 'jobs written since its last save may be gone (or, after a failover, those the replica had not received)';
  return `Redis at ${displayUrl} came back as a different server (run_id ${before.runId.slice(0, 8)} → ${now.runId.slice(0, 8)}: restarted, or another took its place): ${lost}`;
}
