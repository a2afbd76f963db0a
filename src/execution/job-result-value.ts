import { MAX_RESULT_BYTES } from '../stores/rows.js';

// What run() returned, as the JSON text an outcome keeps (issue 17). Only plain JSON is kept,
// as with payloads: a Date, a Map, a class instance, a function or a cycle would not read back
// as what the job returned, so it is dropped with a warning, and the job still completes.
// Runs in the thread, so the master never holds the value itself.

export type ResultText = { json: string } | { warning: string } | null;

/** null: run() returned nothing (undefined). */
export function resultText(value: unknown, maxBytes = MAX_RESULT_BYTES): ResultText {
  if (value === undefined) return null;
  const bad = notPlainJson(value, '$', new Set());
  if (bad) return { warning: `result dropped: run() returned ${bad}, which is not plain JSON` };
  const json = JSON.stringify(value);
  const bytes = Buffer.byteLength(json, 'utf8');
  if (bytes > maxBytes) return { warning: `result dropped: run() returned ${bytes} bytes of JSON, more than the ${maxBytes} kept` };
  return { json };
}

/** Where `v` stops being plain JSON ("a Date at $.when"), or null. */
function notPlainJson(v: unknown, path: string, seen: Set<object>): string | null {
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return null;
  if (typeof v === 'number') return Number.isFinite(v) ? null : `${v} at ${path}`;
  if (typeof v !== 'object') return `a ${typeof v} at ${path}`;
  if (seen.has(v)) return `a cycle at ${path}`;
  seen.add(v);
  try {
    if (Array.isArray(v)) {
      for (let k = 0; k < v.length; k++) {
        const bad = notPlainJson(v[k], `${path}[${k}]`, seen);
        if (bad) return bad;
      }
      return null;
    }
    const proto = Object.getPrototypeOf(v) as unknown;
    if (proto !== Object.prototype && proto !== null) {
      const name = (v as { constructor?: { name?: string } }).constructor?.name ?? 'object';
      return `a ${name} at ${path}`;
    }
    for (const [k, item] of Object.entries(v)) {
      if (item === undefined) continue; // JSON leaves it out, as it does for payloads
      const bad = notPlainJson(item, `${path}.${k}`, seen);
      if (bad) return bad;
    }
    return null;
  } finally {
    seen.delete(v);
  }
}
