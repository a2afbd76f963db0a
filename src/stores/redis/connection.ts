import { Redis, type RedisOptions } from 'ioredis';
import { KEEPALIVE_MS } from '../deadline.js';
import { defineScripts } from './scripts.js';

// One ioredis connection, driven so that it neither hangs a caller nor holds the process open:
// - no automatic reconnect and no offline queue: while Redis is down a command fails at once
//   (ioredis would otherwise queue it and retry for ever), and the next operation reconnects;
// - connecting, ready check included, has a deadline of its own;
// - the socket is unref'd; a ref'd timer keeps the process alive only while an operation is in
//   flight, so an application that dispatches and returns exits by itself.
// One connection is enough: Redis runs one command at a time, and ioredis pipelines concurrent
// operations on it.

export const CONNECT_TIMEOUT_MS = 5_000;
export const COMMAND_TIMEOUT_MS = 60_000;

export class ConnectTimeoutError extends Error {
  override name = 'ConnectTimeoutError';
}

export class RedisConnection {
  private readonly client: Redis;
  private busy = 0;
  private keepAlive: NodeJS.Timeout | null = null;
  private connecting: Promise<void> | null = null;
  private closed = false;
  /** Connected and checked by `init`: status 'ready' alone comes before init has run. */
  private usable = false;
  /** The socket error behind a failed connect: ioredis itself reports only 'Connection is closed.' */
  private lastError: Error | null = null;

  constructor(
    options: RedisOptions,
    /** Runs after every (re)connect, before any operation (server checks). */
    private readonly init: (client: Redis) => Promise<void>,
  ) {
    this.client = new Redis({
      ...options,
      lazyConnect: true,
      enableOfflineQueue: false,
      retryStrategy: () => null,
      connectTimeout: CONNECT_TIMEOUT_MS,
      commandTimeout: COMMAND_TIMEOUT_MS,
      // A peer that vanished (a cut link) is noticed between commands too.
      keepAlive: KEEPALIVE_MS,
      connectionName: 'jobs-runtime',
    });
    defineScripts(this.client);
    // Errors reach callers through the failing operation; without a listener ioredis prints them.
    this.client.on('error', (e: Error) => (this.lastError = e));
    this.client.on('connect', () => this.client.stream?.unref());
    this.client.on('close', () => (this.usable = false));
  }

  async use<T>(fn: (client: Redis) => Promise<T>): Promise<T> {
    if (this.closed) throw new Error('the Redis store is closed');
    this.hold();
    try {
      if (!this.usable || this.client.status !== 'ready') await this.connect();
      return await fn(this.client);
    } catch (e) {
      // A primary demoted to replica (a failover behind the same name) answers READONLY for
      // ever on this socket: drop it, so the next operation connects to whatever the name is now.
      if (/^(READONLY|MASTERDOWN)\b/.test((e as Error)?.message ?? '')) {
        this.usable = false;
        this.drop();
      }
      throw e;
    } finally {
      this.letGo();
    }
  }

  private connect(): Promise<void> {
    this.connecting ??= this.connectOnce().finally(() => (this.connecting = null));
    return this.connecting;
  }

  private async connectOnce(): Promise<void> {
    this.lastError = null;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new ConnectTimeoutError(`no answer within ${CONNECT_TIMEOUT_MS / 1000} s`)), CONNECT_TIMEOUT_MS);
    });
    const attempt = this.client.connect().then(() => this.init(this.client));
    attempt.catch(() => undefined); // it may settle after the deadline won
    try {
      await Promise.race([attempt, deadline]);
      this.usable = true;
    } catch (e) {
      this.drop();
      throw this.lastError ?? e;
    } finally {
      clearTimeout(timer);
    }
  }

  private hold(): void {
    if (this.busy++ === 0) this.keepAlive = setInterval(() => undefined, 1 << 30);
  }

  private letGo(): void {
    if (--this.busy === 0 && this.keepAlive) {
      clearInterval(this.keepAlive);
      this.keepAlive = null;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.client.status === 'ready') await this.client.quit().catch(() => this.drop());
    else this.drop();
  }

  /** Gives up on what is in flight (a deadline passed): the socket is closed, the next operation reconnects. */
  abort(): void {
    this.usable = false;
    this.drop();
  }

  /**
   * Closes the socket now. ioredis's own disconnect() only ends it and arms a 2 s timer that
   * holds the process open when the socket is already gone or the peer never answers.
   */
  private drop(): void {
    if (this.client.status === 'end') return;
    this.client.disconnect();
    this.client.stream?.destroy();
  }
}
