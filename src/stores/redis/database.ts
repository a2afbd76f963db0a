import type { Redis } from 'ioredis';
import { CALL_DEADLINE_MS, withDeadline } from '../deadline.js';
import { RedisConnection } from './connection.js';
import { explainRedisError } from './explain.js';
import { checkRedisServer, serverReplacedNotice, type RedisServerFacts } from './server-check.js';
import { parseRedisUrl } from './url.js';

// The connection every role of the Redis store shares: the URL parsed once, the key prefix,
// the server checked on connect, errors translated into ones that name the store and the fix.

export interface RunOptions {
  deadlineMs?: number | null;
  lane?: 'beat';
}

export class RedisDatabase {
  readonly displayUrl: string;
  /** Every key of this store starts with it. */
  readonly prefix: string;
  private readonly conn: RedisConnection;
  /** What the last connect found out about the server (null before the first). */
  server: RedisServerFacts | null = null;
  private readonly replacedListeners: Array<(message: string) => void> = [];
  private readonly connect: () => RedisConnection;
  /** The heartbeat's own connection, opened on its first beat: a stuck claim never delays a beat. */
  private beats: RedisConnection | null = null;

  private readonly callTimeoutMs: number;

  constructor(options: { url: string; callTimeoutMs?: number }) {
    this.callTimeoutMs = options.callTimeoutMs ?? CALL_DEADLINE_MS;
    const parsed = parseRedisUrl(options.url);
    this.displayUrl = parsed.displayUrl;
    this.prefix = parsed.prefix;
    this.connect = () => new RedisConnection(parsed.options, async (client) => this.noteServer(await checkRedisServer(client, this.displayUrl)));
    this.conn = this.connect();
  }

  /** Calls `listener` when a reconnect finds another server process (a new run_id). */
  onServerReplaced(listener: (message: string) => void): void {
    this.replacedListeners.push(listener);
  }

  /** Every connection (the store's, the heartbeat's) reports what it found; the first to see a new run_id tells. */
  private noteServer(facts: RedisServerFacts): void {
    const before = this.server;
    this.server = facts;
    if (before && before.runId !== facts.runId) {
      const message = serverReplacedNotice(this.displayUrl, before, facts);
      for (const l of this.replacedListeners) l(message);
    }
  }

  /**
   * Runs `fn` on the store's connection (`lane: 'beat'`: the heartbeat's), errors explained. Past
   * `deadlineMs` (default: the store's call timeout; null: none) the connection is dropped and it fails.
   */
  async run<T>(fn: (client: Redis) => Promise<T>, o: RunOptions = {}): Promise<T> {
    if (o.lane === 'beat') this.beats ??= this.connect();
    const conn = o.lane === 'beat' ? this.beats! : this.conn;
    try {
      return await withDeadline(conn.use(fn), o.deadlineMs === undefined ? this.callTimeoutMs : o.deadlineMs, () => conn.abort());
    } catch (e) {
      throw explainRedisError(e, this.displayUrl);
    }
  }

  async close(): Promise<void> {
    await Promise.all([this.conn.close(), this.beats?.close()]);
  }
}
