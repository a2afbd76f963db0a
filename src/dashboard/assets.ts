import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

// The dashboard's static files, served by the handler itself (no CDN: it works offline). The
// build copies them next to this module (scripts/copy-dashboard-assets.mjs, htmx from its npm
// package); run from source, htmx is read from node_modules instead.

const TYPES: Record<string, string> = { css: 'text/css; charset=utf-8', js: 'text/javascript; charset=utf-8' };
const NAMES = new Set(['dashboard.css', 'dashboard.js', 'htmx.min.js']);
const cache = new Map<string, Buffer>();

function locate(name: string): string {
  const beside = fileURLToPath(new URL(`./assets/${name}`, import.meta.url));
  if (existsSync(beside) || name !== 'htmx.min.js') return beside;
  return createRequire(import.meta.url).resolve('htmx.org/dist/htmx.min.js');
}

/** The file and its content type, or null for a name that is not one of the assets. */
export function asset(name: string): { body: Buffer; type: string } | null {
  if (!NAMES.has(name)) return null;
  let body = cache.get(name);
  if (!body) {
    body = readFileSync(locate(name));
    cache.set(name, body);
  }
  return { body, type: TYPES[name.slice(name.lastIndexOf('.') + 1)]! };
}
