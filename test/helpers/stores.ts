import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../../src/stores/open-store.js';
import type { JobStore } from '../../src/stores/store.js';
import { type Backdate, backdateFor } from './backdate.js';
import { createMysqlDatabase } from './mysql.js';
import { createRedisPrefix } from './redis.js';

// A fresh, migrated store of each kind, for suites that run the same cases on every store.

export interface StoreFixture {
  kind: string;
  url: string;
  store: JobStore;
  /** Moves stored times into the past with this store's raw access: what tests use as a clock. */
  backdate: Backdate;
  /** Closes the store and removes its database or file. */
  cleanup(): Promise<void>;
}

export type StoreFactory = { kind: string; create(suite: string): Promise<StoreFixture> };

export const STORE_FACTORIES: StoreFactory[] = [
  {
    kind: 'mysql',
    async create(suite) {
      const db = await createMysqlDatabase(suite);
      const store = await openStore(db.url, { maxConnections: 8 });
      await store.admin.migrate({});
      return {
        kind: 'mysql',
        backdate: backdateFor('mysql', db.url),
        url: db.url,
        store,
        cleanup: async () => {
          await store.close();
          await db.drop();
        },
      };
    },
  },
  {
    kind: 'sqlite',
    async create(suite) {
      const dir = mkdtempSync(join(tmpdir(), `jr-${suite}-`));
      const url = `sqlite:${join(dir, 'jobs.sqlite')}`;
      const store = await openStore(url);
      await store.admin.migrate({});
      return {
        kind: 'sqlite',
        backdate: backdateFor('sqlite', url),
        url,
        store,
        cleanup: async () => {
          await store.close();
          rmSync(dir, { recursive: true, force: true });
        },
      };
    },
  },
  {
    kind: 'redis',
    async create(suite) {
      const redis = await createRedisPrefix(suite);
      const store = await openStore(redis.url);
      await store.admin.migrate({});
      return {
        kind: 'redis',
        backdate: backdateFor('redis', redis.url),
        url: redis.url,
        store,
        cleanup: async () => {
          await store.close();
          await redis.drop();
        },
      };
    },
  },
];
