import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../../src/stores/open-store.js';
import type { ClaimedJob, JobId, JobRef, JobStore, NewJob } from '../../src/stores/store.js';
import { createMysqlDatabase } from './mysql.js';
import { createRedisPrefix } from './redis.js';

// A fresh, migrated store of each kind, for suites that run the same cases on every store.

export interface StoreFixture {
  kind: string;
  url: string;
  store: JobStore;
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

/** A job row with the defaults of a plain dispatch, for store-level tests. */
export const job = (over: Partial<NewJob> = {}): NewJob => ({
  handler: 'Ok',
  queue: 'default',
  payload: '{}',
  delayMs: 0,
  maxAttempts: 1,
  retryAfterMs: 0,
  timeoutMs: null,
  ...over,
});

/** The claims (id and fencing token) of claimed jobs, by id: for results and releases in store-level tests. */
export function claimsById(claimed: ClaimedJob[]): (id: JobId) => JobRef {
  const tokens = new Map(claimed.map((c) => [c.id, c.token]));
  return (id) => {
    const token = tokens.get(id);
    if (token === undefined) throw new Error(`job ${id} was not claimed`);
    return { id, token };
  };
}
