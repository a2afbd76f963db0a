import { resolveConfig } from './config.js';
import { openStore } from './stores/open-store.js';
import type { JobStore } from './stores/store.js';

// The store an application dispatches to, opened on first use from the usual settings
// (JOBS_DATABASE_URL, .env, jobs.config.*, else the embedded SQLite file).

let current: Promise<JobStore> | null = null;

export function defaultStore(): Promise<JobStore> {
  if (!current) {
    current = resolveConfig().then((c) => openStore(c.databaseUrl, { maxConnections: 2 }));
    current.catch(() => (current = null)); // a failed open is retried on the next dispatch
  }
  return current;
}

/** Uses `store` for dispatches from now on (tests, or apps that manage their own store). */
export function useStore(store: JobStore): void {
  current = Promise.resolve(store);
}

/** Closes the dispatch store. Optional: idle connections never keep the process alive. */
export async function close(): Promise<void> {
  const c = current;
  current = null;
  if (c) await (await c).close();
}
