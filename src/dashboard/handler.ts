import type { ServerResponse } from 'node:http';
import { runScheduleNow } from '../operations/schedule-run.js';
import { gatherStatus, type StatusSnapshot } from '../operations/status-snapshot.js';
import { InvalidInputError } from '../errors.js';
import type { JobStore } from '../stores/store.js';
import { assertQueueName } from '../values/names.js';
import { asset } from './assets.js';
import type { PageContext, PageResult } from './context.js';
import { CSRF_COOKIE, CSRF_FIELD, type CsrfGuard } from './csrf.js';
import { html } from './html.js';
import { layout } from './layout.js';
import { ReadCache } from './cache.js';
import { confirmPage, FAILED_PAGE_SIZE, failedPage, selectionOf } from './pages/failed.js';
import { QUEUE_PAGE_SIZE, queueFragment, queuePage, queueQuery } from './pages/queue.js';
import { schedulesPage } from './pages/schedules.js';
import { jobPage, parseJobId } from './pages/job.js';
import { overviewFragment, overviewPage } from './pages/overview.js';
import { cookies, type DashboardRequest, formBody, locate } from './request.js';

// Routes a request to a page or an action. Pages are GETs; actions are POSTs that check the
// CSRF token, act through the store's Admin role, and redirect (303) to a page that says what
// happened. Every response carries a Content-Security-Policy that allows no inline script.

const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
/** Counts, runtimes, throughput and failed totals are read at most this often, however many tabs are open. */
const STATUS_CACHE_MS = 1000;
/**
 * How long one status read is kept: a second, or ten times what it took when the table is
 * large (counts are one index scan on MySQL, one table scan on SQLite: 0.4–1 s at 1M jobs),
 * so open tabs never keep the store busy counting more than a tenth of the time; at most 30 s.
 */
export function statusCacheMs(readMs: number): number {
  return Math.min(30_000, Math.max(STATUS_CACHE_MS, readMs * 10));
}
const READ_CACHE_MS = 2000;
const DAY2_MS = 48 * 3_600_000;

export interface HandlerSettings {
  getStore: () => Promise<JobStore>;
  authorize: (req: DashboardRequest) => boolean | Promise<boolean>;
  readOnly: boolean;
  basePath: string | undefined;
  csrf: CsrfGuard;
  deadAfterMs: number | undefined;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'DashboardHttpError';
  }
}

function send(res: ServerResponse, status: number, type: string, body: string | Buffer, headers: Record<string, string | string[]> = {}): void {
  res.writeHead(status, {
    'Content-Type': type,
    'Content-Security-Policy': CSP,
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'same-origin',
    'X-Frame-Options': 'DENY',
    'Cache-Control': 'no-store',
    ...headers,
  });
  res.end(body);
}

export function createHandler(s: HandlerSettings) {
  let cached: { at: number; keepMs: number; snapshot: StatusSnapshot } | null = null;
  async function status(store: JobStore): Promise<StatusSnapshot> {
    if (cached && Date.now() - cached.at < cached.keepMs) return cached.snapshot;
    const started = performance.now();
    const snapshot = await gatherStatus(store, s.deadAfterMs);
    cached = { at: Date.now(), keepMs: statusCacheMs(performance.now() - started), snapshot };
    return snapshot;
  }

  // Per handler, so every tab it serves shares them (the page lists themselves are not cached:
  // each is one bounded, index-driven read).
  const reads = new ReadCache(READ_CACHE_MS);
  const throughput = (store: JobStore, queue?: string) =>
    reads.get(`tp:${queue ?? ''}`, () => store.admin.throughputByMinute({ sinceMs: DAY2_MS, ...(queue !== undefined ? { queue } : {}) }));
  const failedList = (store: JobStore) => (filter: { queue?: string; handler?: string }) =>
    reads.get(`failed:${filter.queue ?? ''}:${filter.handler ?? ''}`, () => store.admin.listFailed({ ...filter, limit: FAILED_PAGE_SIZE }));

  return async function handle(req: DashboardRequest, res: ServerResponse, _next?: (err?: unknown) => void): Promise<void> {
    const { base, route, query } = locate(req, s.basePath);
    const shell = { base, readOnly: s.readOnly, storeUrl: null as string | null };
    const page = (r: PageResult, headers: Record<string, string | string[]> = {}) =>
      send(res, r.status, 'text/html; charset=utf-8', layout(shell, r.title, r.body), headers);
    try {
      if (!(await s.authorize(req))) throw new HttpError(403, 'Not authorised: the dashboard’s authorize() refused this request.');
      const method = req.method ?? 'GET';
      if (route.startsWith('/assets/')) {
        const file = method === 'GET' || method === 'HEAD' ? asset(route.slice('/assets/'.length)) : null;
        if (!file) throw new HttpError(404, `No such page: ${route}`);
        return send(res, 200, file.type, file.body, { 'Cache-Control': 'public, max-age=300' });
      }
      // The CSRF nonce lives in a cookie; a browser without one gets it with its first page.
      const jar = cookies(req);
      let nonce = jar.get(CSRF_COOKIE);
      const setCookie: Record<string, string> = {};
      if (!nonce || !/^[A-Za-z0-9_-]{16,64}$/.test(nonce)) {
        nonce = s.csrf.newNonce();
        setCookie['Set-Cookie'] = s.csrf.cookieHeader(nonce, base);
      }
      const store = await s.getStore();
      shell.storeUrl = store.displayUrl;
      const ctx: PageContext = { req, res, base, route, query, readOnly: s.readOnly, csrfToken: s.csrf.tokenFor(nonce), store };

      if (method === 'POST') {
        if (s.readOnly) throw new HttpError(403, 'This dashboard is read-only: actions are turned off.');
        const form = await formBody(req);
        if (!s.csrf.verify(jar.get(CSRF_COOKIE), form.get(CSRF_FIELD))) {
          throw new HttpError(403, 'Refused: the form’s CSRF token is missing or does not match this browser’s cookie. Reload the page and try again.');
        }
        const location = await act(ctx, store, route, form);
        cached = null; // the page redirected to shows the change
        reads.clear();
        res.writeHead(303, { Location: base + location, 'Cache-Control': 'no-store' });
        res.end();
        return;
      }
      if (method !== 'GET' && method !== 'HEAD') throw new HttpError(405, `Method ${method} is not used by the dashboard`);

      if (route === '/' || route === '') return page(overviewPage(ctx, await status(store), await throughput(store)), setCookie);
      if (route === '/fragments/overview')
        return send(res, 200, 'text/html; charset=utf-8', overviewFragment(ctx, await status(store), await throughput(store)).text, setCookie);
      if (route === '/failed') return page(await failedPage(ctx, failedList(store)), setCookie);
      if (route === '/failed/confirm') return page(await confirmPage(ctx, failedList(store)), setCookie);
      if (route === '/schedules') return page(schedulesPage(ctx, await reads.get('schedules', () => store.admin.listSchedules({}))), setCookie);
      const queue = /^\/(fragments\/)?queues\/([^/]+)$/.exec(route);
      if (queue) {
        const q = queueQuery(decodeURIComponent(queue[2]!), query);
        const list = await store.admin.listJobs({ ...q, limit: QUEUE_PAGE_SIZE });
        const [snapshot, tp] = [await status(store), await throughput(store, q.queue)];
        if (queue[1]) return send(res, 200, 'text/html; charset=utf-8', queueFragment(ctx, q, list, snapshot, tp).text, setCookie);
        return page(queuePage(ctx, q, list, snapshot, tp), setCookie);
      }
      const job = /^\/jobs\/([^/]*)$/.exec(route);
      if (job) {
        const id = parseJobId(decodeURIComponent(job[1]!));
        if (id === null) throw new HttpError(400, `Invalid job id '${decodeURIComponent(job[1]!)}': ids are whole numbers from 1 up`);
        return page(await jobPage(ctx, store, id), setCookie);
      }
      throw new HttpError(404, `No such page: ${route}`);
    } catch (e) {
      const [status, title, message] = describeError(e, shell.storeUrl);
      if (res.headersSent) return void res.end();
      page({ status, title, body: html`<h2>${title}</h2><p class="notice error">${message}</p><p><a href="${base}/">Back to the overview</a></p>` });
    }
  };
}

async function act(ctx: PageContext, store: JobStore, route: string, form: URLSearchParams): Promise<string> {
  const queue = /^\/queues\/([^/]+)\/(pause|resume)$/.exec(route);
  if (queue) {
    const name = decodeURIComponent(queue[1]!);
    assertQueueName(name);
    const paused = queue[2] === 'pause';
    const changed = await store.admin.setQueuePaused({ queue: name, paused });
    return `/?done=${paused ? 'paused' : 'resumed'}&queue=${encodeURIComponent(name)}&changed=${changed ? 1 : 0}`;
  }
  if (route === '/failed/retry' || route === '/failed/forget') {
    const { selection, filter, unconfirmed } = selectionOf(form);
    const retry = route === '/failed/retry';
    // "All matching" acts only from its confirmation page; a form without it is sent there.
    if (unconfirmed) return `/failed/confirm?${new URLSearchParams({ action: retry ? 'retry' : 'forget', ...filter })}`;
    const n = retry ? await store.admin.retryFailed(selection) : await store.admin.deleteFailed(selection);
    const done = retry ? 'retried' : 'forgotten';
    if (form.get('from') === 'job' && retry && selection.ids?.length === 1) return `/jobs/${selection.ids[0]}?done=${done}&n=${n}`;
    const back = new URLSearchParams({ ...filter, done, n: String(n) });
    return `/failed?${back}`;
  }
  const run = /^\/schedules\/([^/]+)\/run$/.exec(route);
  if (run) {
    const { result } = await runScheduleNow(store, decodeURIComponent(run[1]!));
    return `/schedules?${new URLSearchParams({ done: 'run', key: decodeURIComponent(run[1]!), id: String(result.id), duplicate: result.duplicate ? '1' : '0' })}`;
  }
  void ctx;
  throw new HttpError(404, `No such action: POST ${route}`);
}

function describeError(e: unknown, storeUrl: string | null): [number, string, string] {
  if (e instanceof HttpError) return [e.status, e.status === 404 ? 'Not found' : e.status === 400 ? 'Bad request' : 'Refused', e.message];
  if (e instanceof InvalidInputError || (e instanceof Error && e.name === 'InvalidInputError')) return [400, 'Bad request', e.message];
  if (e instanceof URIError) return [400, 'Bad request', `Malformed URL: ${e.message}`];
  // Anything else came from reading or changing the store: say so; the next request tries again.
  const message = e instanceof Error ? e.message : String(e);
  return [503, 'Store unavailable', `The store${storeUrl ? ` (${storeUrl})` : ''} did not answer: ${message}. Reload the page to try again.`];
}
