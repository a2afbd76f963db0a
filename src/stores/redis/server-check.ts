import type { Redis } from 'ioredis';
import { StoreUnavailableError } from '../../errors.js';

// Checked on every connect, before the first operation:
// - Redis 6.2+: claims read due jobs with ZRANGE … BYSCORE LIMIT.
// - No allkeys-* eviction: it would drop job keys silently under memory pressure. The volatile-*
//   policies are safe, as job keys never expire.
export async function checkRedisServer(client: Redis, displayUrl: string): Promise<void> {
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
}
