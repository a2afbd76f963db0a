import { Redis } from 'ioredis';
import { randomBytes } from 'node:crypto';

// Each suite gets a key prefix of its own on the test Redis; cleanup deletes its keys (SCAN, so
// other suites' and applications' keys are never touched). Redis not reachable is a failure with
// instructions, never a skip.

export const REDIS_TEST_URL = process.env.JOBS_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379/0';

export interface TestRedis {
  /** REDIS_TEST_URL with ?prefix= set to this suite's prefix. */
  url: string;
  prefix: string;
  /** A plain client on the same database, for looking at keys. */
  client: Redis;
  drop(): Promise<void>;
}

export async function createRedisPrefix(suite: string): Promise<TestRedis> {
  const client = await connectTestRedis();
  const prefix = `jrtest:${suite.replace(/\W/g, '_')}:${process.pid}:${randomBytes(4).toString('hex')}:`;
  let dropped = false;
  return {
    url: redisUrlWithPrefix(prefix),
    prefix,
    client,
    async drop() {
      if (dropped) return;
      dropped = true;
      await deleteKeys(client, prefix);
      client.disconnect();
    },
  };
}

export function redisUrlWithPrefix(prefix: string): string {
  const url = new URL(REDIS_TEST_URL);
  url.searchParams.set('prefix', prefix);
  return url.toString();
}

export async function connectTestRedis(): Promise<Redis> {
  const client = new Redis(REDIS_TEST_URL, { lazyConnect: true, retryStrategy: () => null, enableOfflineQueue: false, connectTimeout: 3_000 });
  let cause: Error | null = null; // the socket error; connect() itself says only 'Connection is closed.'
  client.on('error', (e: Error) => (cause ??= e));
  try {
    await client.connect();
  } catch (e) {
    client.disconnect();
    throw new Error(
      `Redis is not reachable at ${REDIS_TEST_URL} (${(cause ?? (e as Error)).message}). Start it with ` +
        '`redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log`, ' +
        'or point JOBS_TEST_REDIS_URL at a server.',
    );
  }
  return client;
}

/** Every key under `prefix`, found with SCAN (never KEYS, which blocks a shared Redis). */
export async function scanKeys(client: Redis, prefix: string): Promise<string[]> {
  const pattern = `${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`;
  const found: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    found.push(...keys);
  } while (cursor !== '0');
  return found;
}

export async function deleteKeys(client: Redis, prefix: string): Promise<number> {
  const keys = await scanKeys(client, prefix);
  let deleted = 0;
  for (let i = 0; i < keys.length; i += 1000) deleted += await client.unlink(...keys.slice(i, i + 1000));
  return deleted;
}
