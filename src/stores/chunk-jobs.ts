import type { JobResult, NewJob } from './store.js';

/** Splits items into chunks of at most `maxItems` and about `maxBytes` (by `sizeOf`), in order. */
export function chunkBySize<T>(items: T[], maxItems: number, maxBytes: number, sizeOf: (item: T) => number): T[][] {
  const chunks: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const item of items) {
    const size = sizeOf(item);
    if (current.length > 0 && (current.length >= maxItems || bytes + size > maxBytes)) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(item);
    bytes += size;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

/** A job's room in an insert statement: its payload as worst-case UTF-8, and the rest of its row. */
export function jobBytes(j: NewJob): number {
  return j.payload.length * 3 + j.handler.length + 200;
}

/** Splits jobs for bulk inserts: at most `maxRows` per chunk and about `maxBytes` (worst-case UTF-8). */
export function chunkJobs(jobs: NewJob[], maxRows: number, maxBytes: number): NewJob[][] {
  return chunkBySize(jobs, maxRows, maxBytes, jobBytes);
}

/** Splits results for writes of about `maxBytes` each (their error texts, worst-case UTF-8). */
export function chunkResults(results: JobResult[], maxBytes: number): JobResult[][] {
  return chunkBySize(results, Number.MAX_SAFE_INTEGER, maxBytes, (r) => (r.outcome === 'completed' ? 24 : r.error.length * 3 + 200));
}
