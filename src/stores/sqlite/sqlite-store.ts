import type { JobStore, StoreCapabilities } from '../store.js';
import { SqliteAdmin } from './admin.js';
import { SqliteDatabase } from './database.js';
import { SqliteOutcomes } from './outcomes.js';
import { SqliteProducer } from './producer.js';
import { SqliteQueue } from './queue.js';
import { SqliteRegistry } from './registry.js';
import { SqliteSchedules } from './schedules.js';

// The embedded default store: every role over one file handle (database.ts).

export class SqliteStore implements JobStore {
  readonly kind = 'sqlite';
  /** The schema is created on open: a new user needs no migrate step. */
  readonly capabilities: StoreCapabilities = { needsMigrate: false, crossHostWake: 'none', claimByIdsSooner: false };
  readonly displayUrl: string;
  readonly producer: SqliteProducer;
  readonly queue: SqliteQueue;
  readonly registry: SqliteRegistry;
  readonly admin: SqliteAdmin;
  private readonly db: SqliteDatabase;

  constructor(options: { path: string }) {
    this.db = new SqliteDatabase(options);
    this.displayUrl = this.db.displayUrl;
    this.producer = new SqliteProducer(this.db, new SqliteOutcomes(this.db));
    this.queue = new SqliteQueue(this.db);
    // Schedules span roles (the application saves, runtimes tick, operators list): one object, shared.
    const schedules = new SqliteSchedules(this.db, this.producer);
    this.producer.schedules = schedules;
    this.registry = new SqliteRegistry(this.db, schedules);
    this.admin = new SqliteAdmin(this.db, schedules);
  }

  async close(): Promise<void> {
    this.db.close();
  }
}
