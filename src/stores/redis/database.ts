import type { Redis } from 'ioredis';
import { RedisConnection } from './connection.js';
import { explainRedisError } from './explain.js';
import { checkRedisServer } from './server-check.js';
import { parseRedisUrl } from './url.js';

// The connection every role of the Redis store shares: the URL parsed once, the key prefix,
// the server checked on connect, errors translated into ones that name the store and the fix.

export class RedisDatabase {
  readonly displayUrl: string;
  /** Every key of this store starts with it. */
  readonly prefix: string;
  private readonly conn: RedisConnection;

  constructor(options: { url: string }) {
    const parsed = parseRedisUrl(options.url);
    this.displayUrl = parsed.displayUrl;
    this.prefix = parsed.prefix;
    this.conn = new RedisConnection(parsed.options, (client) => checkRedisServer(client, this.displayUrl));
  }

  async run<T>(fn: (client: Redis) => Promise<T>): Promise<T> {
    try {
      return await this.conn.use(fn);
    } catch (e) {
      throw explainRedisError(e, this.displayUrl);
    }
  }

  async close(): Promise<void> {
    await this.conn.close();
  }
}
