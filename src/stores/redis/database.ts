import type { Redis } from 'ioredis';
import { RedisConnection } from './connection.js';
import { explainRedisError } from './explain.js';
import { checkRedisServer, serverReplacedNotice, type RedisServerFacts } from './server-check.js';
import { parseRedisUrl } from './url.js';

// The connection every role of the Redis store shares: the URL parsed once, the key prefix,
// the server checked on connect, errors translated into ones that name the store and the fix.

export class RedisDatabase {
  readonly displayUrl: string;
  /** Every key of this store starts with it. */
  readonly prefix: string;
  private readonly conn: RedisConnection;
  /** What the last connect found out about the server (null before the first). */
  server: RedisServerFacts | null = null;
  private readonly replacedListeners: Array<(message: string) => void> = [];

  constructor(options: { url: string }) {
    const parsed = parseRedisUrl(options.url);
    this.displayUrl = parsed.displayUrl;
    this.prefix = parsed.prefix;
    this.conn = new RedisConnection(parsed.options, async (client) => this.noteServer(await checkRedisServer(client, this.displayUrl)));
  }

  /** Calls `listener` when a reconnect finds another server process (a new run_id). */
  onServerReplaced(listener: (message: string) => void): void {
    this.replacedListeners.push(listener);
  }

  private noteServer(facts: RedisServerFacts): void {
    const before = this.server;
    this.server = facts;
    if (before && before.runId !== facts.runId) {
      const message = serverReplacedNotice(this.displayUrl, before, facts);
      for (const l of this.replacedListeners) l(message);
    }
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
