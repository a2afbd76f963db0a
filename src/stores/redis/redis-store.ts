import type { JobStore, StoreCapabilities } from '../store.js';
import { RedisAdmin } from './admin.js';
import { RedisDatabase } from './database.js';
import { RedisOutcomes } from './outcomes.js';
import { RedisProducer } from './producer.js';
import { RedisQueue } from './queue.js';
import { RedisRegistry } from './registry.js';
import { parseRedisUrl } from './url.js';
import { RedisWakeChannel } from './wake-channel.js';

// Jobs in Redis: each job a hash, due jobs in sorted sets scored by due time (layout in keys.ts),
// every state change one Lua script (lua/), all times from Redis's own clock. Every role shares
// one connection (database.ts).

export class RedisStore implements JobStore {
  readonly kind = 'redis';
  /** Nothing to create: keys appear with the first job. */
  readonly capabilities: StoreCapabilities = { needsMigrate: false, crossHostWake: 'channel', claimByIdsSooner: false };
  readonly displayUrl: string;
  /** Every key of this store starts with it. */
  readonly prefix: string;
  readonly producer: RedisProducer;
  readonly queue: RedisQueue;
  readonly registry: RedisRegistry;
  readonly admin: RedisAdmin;
  readonly wakeChannel: RedisWakeChannel;
  private readonly db: RedisDatabase;

  constructor(options: { url: string; callTimeoutMs?: number }) {
    this.db = new RedisDatabase(options);
    this.displayUrl = this.db.displayUrl;
    this.prefix = this.db.prefix;
    this.producer = new RedisProducer(this.db, new RedisOutcomes(this.db));
    this.queue = new RedisQueue(this.db);
    this.registry = new RedisRegistry(this.db);
    this.admin = new RedisAdmin(this.db);
    this.wakeChannel = new RedisWakeChannel(parseRedisUrl(options.url).options, this.prefix);
  }

  onServerReplaced(listener: (message: string) => void): void {
    this.db.onServerReplaced(listener);
  }

  close(): Promise<void> {
    return this.db.close();
  }
}
