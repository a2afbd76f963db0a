import { randomBytes } from 'node:crypto';
import type { JobRef } from './store.js';

// Fencing tokens: every claim of a job gets a fresh one, recorded with the job, and every later
// write for that claim (its result, its release) must present it. 64 random bits: a stale
// claim's token never matches a newer claim of the same job.

export function newClaimToken(): string {
  return randomBytes(8).toString('hex');
}

export const refKey = (r: JobRef): string => `${r.id}:${r.token}`;

/** The refs of `all` that are not in `held`. */
export function refsNotIn(all: JobRef[], held: JobRef[]): JobRef[] {
  const keep = new Set(held.map(refKey));
  return all.filter((r) => !keep.has(refKey(r)));
}

/** Items grouped by a key of theirs, in first-seen order. */
export function groupBy<T>(items: T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const g = groups.get(k);
    if (g) g.push(item);
    else groups.set(k, [item]);
  }
  return groups;
}
