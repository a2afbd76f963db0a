import { resolve } from 'node:path';
import { InvalidInputError } from '../errors.js';
import type { ForeignJobs } from './mysql/foreign-rows.js';
import type { JobStore } from './store.js';
import { maskUrlPassword } from './url-in-messages.js';
import { assertKnownParams, POOL_PARAM } from './url-params.js';

// Store drivers load lazily: an app on MySQL never loads better-sqlite3 or ioredis, and so on.
// The sync: and null: engines are producers only (see dispatcher.ts).

export const DEFAULT_DATABASE_URL = 'sqlite:./.jobs/jobs.sqlite';

export interface StoreConnectOptions {
  /** Connections this process may open (MySQL). */
  maxConnections?: number;
  /** Deadline of each store call (claims, results, dispatches, reads), ms; default 30 s. */
  callTimeoutMs?: number;
  /**
   * MySQL: rows another system's workers run on the same table (Lightpack's PHP queues, PHP
   * classes taken over): never claimed, pruned or requeued as ours. Other stores hold none.
   */
  foreignJobs?: ForeignJobs;
}

export async function openStore(url: string, options: StoreConnectOptions = {}): Promise<JobStore> {
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1]?.toLowerCase();
  switch (scheme) {
    case 'mysql':
    case 'mariadb': {
      const { MySqlStore } = await import('./mysql/mysql-store.js');
      return new MySqlStore({ url: url.replace(/^mariadb:/i, 'mysql:'), ...options });
    }
    case 'sqlite':
    case 'file': {
      const { SqliteStore } = await import('./sqlite/sqlite-store.js');
      return new SqliteStore({ path: sqlitePath(url) });
    }
    case 'redis':
    case 'rediss': {
      const { RedisStore } = await import('./redis/redis-store.js');
      return new RedisStore({ url, ...(options.callTimeoutMs ? { callTimeoutMs: options.callTimeoutMs } : {}) });
    }
    case 'sync':
    case 'null':
      throw new InvalidInputError(
        `The ${scheme}: engine keeps no jobs, so a runtime has nothing to process and an operator nothing to inspect: ` +
          `point --database-url or JOBS_DATABASE_URL at a store (redis:, mysql:, sqlite:)`,
      );
    default:
      throw new InvalidInputError(
        `Unsupported database URL '${maskUrlPassword(url)}': use mysql://user:pass@host:3306/db, ` +
          `redis://127.0.0.1:6379/0, sqlite:./path/jobs.sqlite (the default is ${DEFAULT_DATABASE_URL}), ` +
          `or for tests sync: (run jobs at dispatch) or null: (drop them)`,
      );
  }
}

/** sqlite:./rel/path, sqlite:/abs/path, sqlite:///abs/path, file:... → an absolute path. */
export function sqlitePath(url: string): string {
  let path = url.replace(/^(sqlite|file):/i, '');
  if (path.startsWith('//')) {
    // sqlite:///abs → /abs. A host (sqlite://data/jobs.sqlite) would silently be dropped, and
    // the file opened at the filesystem's root.
    const host = /^\/\/([^/]*)/.exec(path)![1]!;
    if (host !== '' && host !== 'localhost') {
      throw new InvalidInputError(
        `The SQLite URL '${url}' has a host part ('${host}'): use sqlite:${host.startsWith('.') ? '' : './'}${host}${path.slice(2 + host.length)} for a relative path, or sqlite:///abs/path`,
      );
    }
    path = path.slice(2 + host.length);
  }
  const query = path.indexOf('?');
  if (query >= 0) {
    assertKnownParams(new URLSearchParams(path.slice(query)).keys(), {
      store: 'SQLite',
      url,
      known: [],
      notes: { [POOL_PARAM]: 'the SQLite store writes through one handle per process, so there is no pool to size (?pool= is for MySQL)' },
    });
    path = path.slice(0, query); // only '?' with nothing after it is left
  }
  path = decodeURIComponent(path);
  if (path === ':memory:') return path;
  if (!path) throw new InvalidInputError(`The SQLite URL '${url}' names no file: use e.g. sqlite:./.jobs/jobs.sqlite`);
  return resolve(path);
}
