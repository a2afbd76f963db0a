import type { ServerResponse } from 'node:http';
import { InvalidInputError } from '../errors.js';
import { openStore } from '../stores/open-store.js';
import type { JobStore } from '../stores/store.js';
import { CsrfGuard } from './csrf.js';
import { createHandler } from './handler.js';
import { type DashboardRequest, normalizeBasePath } from './request.js';

// `import { dashboard } from 'jobs-runtime/dashboard'`: the web dashboard as a plain Node
// request handler, for Express (`app.use('/jobs', dashboard(...))`), Fastify (through
// @fastify/middie) or node:http. Its own package entry: the main API never loads it.

export type { DashboardRequest } from './request.js';

export interface DashboardOptions {
  /** The application's store (it stays the application's to close). */
  store?: JobStore;
  /** Or a store URL: the dashboard opens it at its first request, and `close()` closes it. */
  url?: string;
  /**
   * Required: decides whether a request may see the dashboard (and act, unless read-only).
   * Return false to refuse it (403). Typically checks the app's session or a header.
   */
  authorize: (req: DashboardRequest) => boolean | Promise<boolean>;
  /** Hides and refuses (403) every action: retry, forget, pause, resume. */
  readOnly?: boolean;
  /**
   * Where the dashboard is served, e.g. '/jobs'. Needed under node:http or behind a proxy that
   * strips the prefix; under Express or middie it is read from the request (req.baseUrl, req.originalUrl).
   */
  basePath?: string;
  /** Secret that signs CSRF tokens; give the same one to every process behind one address. Default: random per process. */
  csrfSecret?: string;
  /** A runtime silent this long shows as dead (ms); default 30 s, the runtimes' default --dead-after. */
  deadAfterMs?: number;
}

export interface DashboardHandler {
  (req: DashboardRequest, res: ServerResponse, next?: (err?: unknown) => void): Promise<void>;
  /** Closes the store the dashboard opened from `url` (a given `store` is left alone). */
  close(): Promise<void>;
}

export function dashboard(options: DashboardOptions): DashboardHandler {
  if (typeof options?.authorize !== 'function') {
    throw new InvalidInputError(
      'dashboard() needs an authorize(req) function: the dashboard can retry and delete jobs, so it is never served to everyone by default. ' +
        'Pass `authorize: (req) => …` returning true for the requests allowed (`() => true` only behind your own access control).',
    );
  }
  if (!options.store === !options.url) throw new InvalidInputError('dashboard() needs exactly one of `store` (a JobStore) or `url` (a store URL)');
  const basePath = options.basePath === undefined ? undefined : normalizeBasePath(options.basePath);
  let opened: Promise<JobStore> | null = null;
  const getStore = (): Promise<JobStore> => {
    if (options.store) return Promise.resolve(options.store);
    // A failed open (bad URL, driver missing) is tried again at the next request.
    opened ??= openStore(options.url!, { maxConnections: 2, callTimeoutMs: 5000 }).catch((e: unknown) => {
      opened = null;
      throw e;
    });
    return opened;
  };
  const handle = createHandler({
    getStore,
    authorize: options.authorize,
    readOnly: options.readOnly === true,
    basePath,
    csrf: new CsrfGuard(options.csrfSecret),
    deadAfterMs: options.deadAfterMs,
  });
  return Object.assign(handle, {
    async close() {
      const store = opened;
      opened = null;
      if (store) await (await store.catch(() => null))?.close();
    },
  });
}
