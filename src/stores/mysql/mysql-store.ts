import type { JobStore, StoreCapabilities } from '../store.js';
import { MySqlAdmin } from './admin.js';
import { MySqlDatabase, type MySqlStoreOptions } from './database.js';
import { MySqlOutcomes } from './outcomes.js';
import { MySqlProducer } from './producer.js';
import { MySqlQueue } from './queue.js';
import { MySqlRegistry } from './registry.js';

// The MySQL/MariaDB store: every role over one pool of connections (database.ts).

export type { MySqlStoreOptions };

export class MySqlStore implements JobStore {
  readonly kind = 'mysql';
  /** The table is created by `jobs-runtime migrate`, never implicitly: it may be the PHP system's. */
  readonly capabilities: StoreCapabilities = { needsMigrate: true, crossHostWake: 'address', claimByIdsSooner: true };
  readonly displayUrl: string;
  readonly producer: MySqlProducer;
  readonly queue: MySqlQueue;
  readonly registry: MySqlRegistry;
  readonly admin: MySqlAdmin;
  private readonly db: MySqlDatabase;

  constructor(options: MySqlStoreOptions) {
    this.db = new MySqlDatabase(options);
    this.displayUrl = this.db.displayUrl;
    this.producer = new MySqlProducer(this.db, new MySqlOutcomes(this.db));
    this.queue = new MySqlQueue(this.db);
    this.registry = new MySqlRegistry(this.db);
    this.admin = new MySqlAdmin(this.db);
  }

  close(): Promise<void> {
    return this.db.close();
  }
}
