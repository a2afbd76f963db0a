import type { NewJob } from './store.js';

/** Splits jobs for bulk inserts: at most `maxRows` per chunk and about `maxBytes` (worst-case UTF-8). */
export function chunkJobs(jobs: NewJob[], maxRows: number, maxBytes: number): NewJob[][] {
  const chunks: NewJob[][] = [];
  let current: NewJob[] = [];
  let bytes = 0;
  for (const j of jobs) {
    const size = j.payload.length * 3 + j.handler.length + 200; // worst case UTF-8 bytes
    if (current.length > 0 && (current.length >= maxRows || bytes + size > maxBytes)) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(j);
    bytes += size;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}
