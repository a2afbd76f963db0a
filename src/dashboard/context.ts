import type { ServerResponse } from 'node:http';
import type { JobStore } from '../stores/store.js';
import type { DashboardRequest } from './request.js';

/** What a page or an action is handed: the request located under its base path. */
export interface PageContext {
  req: DashboardRequest;
  res: ServerResponse;
  /** '' or '/jobs': every link and asset starts with it. */
  base: string;
  route: string;
  query: URLSearchParams;
  readOnly: boolean;
  /** The token this page's forms carry (see csrf.ts). */
  csrfToken: string;
  store: JobStore;
}

/** A page's outcome: the HTML and its status. */
export interface PageResult {
  status: number;
  title: string;
  body: import('./html.js').Html;
}
