import { InvalidInputError } from '../errors.js';
import { maskUrlPassword } from './url-in-messages.js';

// Query parameters of store URLs, checked the same way for every store: an unknown one is an
// error that lists the known ones, so a mistyped or foreign parameter (`?connectionLimit=10`,
// `?prefx=`) is never silently ignored.

/** A parameter a store's URL accepts: its name, and what it sets (shown in the error). */
export interface UrlParam {
  name: string;
  /** e.g. 'the jobs table, default jobs' */
  means: string;
}

/** The pool parameter: connections one process may open to the store. */
export const POOL_PARAM = 'pool';
const MAX_POOL = 1000;

/**
 * Throws InvalidInputError for the first parameter not in `known`. `notes` explains a parameter
 * that belongs to another store (Redis has no pool to size, for one).
 */
export function assertKnownParams(names: Iterable<string>, o: { store: string; url: string; known: UrlParam[]; notes?: Record<string, string> }): void {
  const known = new Set(o.known.map((p) => p.name));
  for (const name of names) {
    if (known.has(name)) continue;
    const list = o.known.length === 0 ? 'it takes none' : `known: ${o.known.map((p) => `?${p.name}= (${p.means})`).join(', ')}`;
    const note = o.notes?.[name] ? `; ${o.notes[name]}` : '';
    throw new InvalidInputError(`Unknown parameter '${name}' in the ${o.store} URL '${maskUrlPassword(o.url)}': ${list}${note}`);
  }
}

/** A pool size as written in a URL or a setting: a whole number from 1 to 1000. */
export function parsePoolSize(text: string, where: string): number {
  const n = Number(text.trim());
  if (!/^\s*\d+\s*$/.test(text) || !Number.isInteger(n) || n < 1 || n > MAX_POOL) {
    throw new InvalidInputError(`Invalid pool size '${text}' in ${where}: use a whole number of connections from 1 to ${MAX_POOL}, e.g. ?pool=10`);
  }
  return n;
}
