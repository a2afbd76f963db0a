import { InvalidInputError } from '../errors.js';
import { JOB_LIST_SCAN, JOB_LIST_STATES, type JobId, type JobListPage, type JobListSelection, type JobRecord, type JobStatus } from './rows.js';

// What every store's Admin.listJobs shares: checking the selection, the SQL stores' cursor and
// segments, and turning one bounded scan of a queue's index into a page and its cursor.

export const JOB_LIST_MAX = 500;

export function assertJobListSelection(sel: JobListSelection): void {
  if (!JOB_LIST_STATES.includes(sel.state)) throw new InvalidInputError(`Unknown job state '${String(sel.state)}': one of ${JOB_LIST_STATES.join(', ')}`);
  if (!Number.isInteger(sel.limit) || sel.limit < 1 || sel.limit > JOB_LIST_MAX)
    throw new InvalidInputError(`A page holds 1 to ${JOB_LIST_MAX} jobs, not ${sel.limit}`);
  if (sel.id !== undefined && !(Number.isSafeInteger(sel.id) && sel.id > 0)) throw new InvalidInputError(`Invalid job id '${sel.id}'`);
}

/** How many index entries one page reads: one past the page, or a bounded stretch when filtering by handler. */
export function scanWindow(sel: JobListSelection): number {
  return sel.handler !== undefined ? Math.max(JOB_LIST_SCAN, sel.limit + 1) : sel.limit + 1;
}

/** A place in claim order (priority, due time, id): the SQL stores' cursor. */
export interface ListPosition {
  priority: number;
  dueMs: number;
  id: JobId;
}

export function encodePosition(p: ListPosition): string {
  return `${p.priority}_${p.dueMs}_${p.id}`;
}

export function decodePosition(after: string | null | undefined): ListPosition | null {
  if (after === undefined || after === null || after === '') return null;
  const m = /^(-?\d{1,4})_(\d{1,15})_(\d{1,16})$/.exec(after);
  if (!m) throw new InvalidInputError(`Malformed page cursor '${after}': use the link of the previous page`);
  return { priority: Number(m[1]), dueMs: Number(m[2]), id: Number(m[3]) };
}

export function comparePositions(a: ListPosition, b: ListPosition): number {
  return a.priority - b.priority || a.dueMs - b.dueMs || a.id - b.id;
}

/**
 * The index ranges of a state: one (status, due condition) per segment, each read in claim
 * order from (queue, status, priority, scheduled_at, id). Waiting has two: due 'new' jobs and
 * blocked ones, merged by position.
 */
export function segmentsOf(state: JobListSelection['state']): Array<{ status: JobStatus; due?: 'past' | 'future' }> {
  switch (state) {
    case 'waiting':
      return [{ status: 'new', due: 'past' }, { status: 'blocked' }];
    case 'delayed':
      return [{ status: 'new', due: 'future' }];
    default:
      return [{ status: state }];
  }
}

/** Merges per-segment scans (each in order, each at most `window` long) into the first `window` of their union. */
export function mergeScans<T extends ListPosition>(scans: T[][], window: number): T[] {
  if (scans.length === 1) return scans[0]!;
  return scans.flat().sort(comparePositions).slice(0, window);
}

/**
 * The page a scan gives: its first `limit` entries that match (a row may have changed or gone
 * since the scan: `rowOf` returns null then). The next page starts after the last job shown
 * when the scan went further, or after the last entry scanned when the window was full.
 */
export function pageFromScan<T>(scan: T[], window: number, limit: number, rowOf: (entry: T) => JobRecord | null, cursorOf: (entry: T) => string): JobListPage {
  const jobs: JobRecord[] = [];
  for (let i = 0; i < scan.length; i++) {
    const row = rowOf(scan[i]!);
    if (!row) continue;
    if (jobs.length === limit) return { jobs, next: cursorOf(scan[i - 1]!) };
    jobs.push(row);
  }
  return { jobs, next: scan.length >= window ? cursorOf(scan[scan.length - 1]!) : null };
}
