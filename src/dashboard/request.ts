import type { IncomingMessage } from 'node:http';
import { InvalidInputError } from '../errors.js';

// What the dashboard reads from a request, whatever serves it: node:http, Express (which strips
// its mount path from req.url and keeps it in req.baseUrl), Fastify's middie (req.originalUrl),
// or a proxy that strips a prefix (the basePath option).

/** A request as frameworks hand it on: plain node:http plus the fields Express and middie add. */
export type DashboardRequest = IncomingMessage & { baseUrl?: string; originalUrl?: string; body?: unknown };

const MAX_BODY_BYTES = 64 * 1024;

function pathOf(url: string): string {
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}

/** A base path as links use it: '' or '/jobs' (leading slash, no trailing one). */
export function normalizeBasePath(value: string): string {
  const trimmed = value.replace(/\/+$/, '');
  if (trimmed === '') return '';
  if (!/^\/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*$/.test(trimmed) || trimmed.includes('//')) {
    throw new InvalidInputError(`Invalid dashboard base path '${value}': give a URL path like /jobs`);
  }
  return trimmed;
}

/**
 * The path the dashboard serves under (its links and assets stay under it) and the route within
 * it. With `basePath` set, a req.url that still carries it has it stripped (node:http); one that
 * does not was stripped already (a framework's mount, a proxy).
 */
export function locate(req: DashboardRequest, basePath: string | undefined): { base: string; route: string; query: URLSearchParams } {
  const url = req.url ?? '/';
  const query = new URLSearchParams(url.includes('?') ? url.slice(url.indexOf('?') + 1) : '');
  let route = pathOf(url) || '/';
  let base: string;
  if (basePath !== undefined) {
    base = basePath;
    if (base !== '' && (route === base || route.startsWith(`${base}/`))) route = route.slice(base.length) || '/';
  } else if (typeof req.baseUrl === 'string') {
    base = req.baseUrl.replace(/\/+$/, '');
  } else if (typeof req.originalUrl === 'string') {
    const original = pathOf(req.originalUrl);
    base = original.endsWith(route) ? original.slice(0, original.length - route.length) : route === '/' ? original : '';
    base = base.replace(/\/+$/, '');
  } else {
    base = '';
  }
  return { base, route, query };
}

export function cookies(req: IncomingMessage): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0) out.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  return out;
}

/** The form fields of a POST: from a body parser that ran before (Express), else read here, bounded. */
export async function formBody(req: DashboardRequest): Promise<URLSearchParams> {
  if (req.body && typeof req.body === 'object' && !Buffer.isBuffer(req.body)) {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(req.body as Record<string, unknown>)) {
      for (const item of Array.isArray(v) ? v : [v]) params.append(k, String(item));
    }
    return params;
  }
  const type = req.headers['content-type'] ?? '';
  if (!type.startsWith('application/x-www-form-urlencoded')) {
    throw new InvalidInputError(`Actions take a form (application/x-www-form-urlencoded), got '${type || 'no content type'}'`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new InvalidInputError(`The form is larger than ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}
