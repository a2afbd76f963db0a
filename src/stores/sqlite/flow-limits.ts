import type { SqliteDatabase } from './database.js';
import { FIRST_BLOCKED, PROCESSING_OF_KEY, PROCESSING_OF_KEY_OTHER_CLAIMS, UNBLOCK } from './claim-sql.js';
import type { JobRow } from './rows.js';

// Concurrency and rate limits, SQLite dialect. Everything runs inside the caller's IMMEDIATE
// transaction (a claim, a results write, a release, a recovery): SQLite's one write lock
// serializes claims and the unblocking of a key, so no blocked job is left waiting beside a
// free slot, and a slot (a processing row: there is no counter to drift) frees exactly once.

/** Longest a rate-deferred job waits past its next window's start, at most: spreads the herd. */
const MAX_JITTER_MS = 1000;

/**
 * A claim's admission of the rows it took (status already 'processing', attempt charged, this
 * claim's token): those a full concurrency key or a spent rate window holds back are put back as
 * if never taken. One per claim transaction: it counts what the claim took per key.
 */
export class ClaimAdmission {
  /** Per concurrency key: jobs processing under other claims plus those this claim keeps. */
  private readonly running = new Map<string, number>();
  /** Rate windows pruned during this claim (once per key). */
  private readonly pruned = new Set<string>();

  constructor(
    private readonly db: SqliteDatabase,
    private readonly token: string,
    private readonly now: number,
  ) {}

  /** The rows kept, in the order given (claim order); the others are reverted. */
  admit(rows: JobRow[]): JobRow[] {
    const kept: JobRow[] = [];
    const startedKeys: number[] = [];
    for (const r of rows) {
      if (!this.admitOne(r)) continue;
      kept.push(r);
      if (r.unique_key !== null && r.unique_until === 'started') startedKeys.push(r.id);
    }
    // until 'started': the claim that takes the job releases its key.
    if (startedKeys.length) this.db.stmt('UPDATE jobs SET unique_key = NULL WHERE id IN (SELECT value FROM json_each(?))').run(JSON.stringify(startedKeys));
    for (const r of kept) if (r.unique_until === 'started') r.unique_key = null;
    return kept;
  }

  private admitOne(r: JobRow): boolean {
    const conc = r.concurrency_key;
    let running = 0;
    if (conc !== null) {
      running = this.running.get(conc) ?? this.db.stmt<[string, string], { n: number }>(PROCESSING_OF_KEY_OTHER_CLAIMS).get(conc, this.token)!.n;
      this.running.set(conc, running);
      if (running >= r.concurrency_limit!) {
        this.db.stmt("UPDATE jobs SET status = 'blocked', attempts = attempts - 1, owner = NULL, claimed_at = NULL, claim_token = NULL WHERE id = ?").run(r.id);
        return false;
      }
    }
    if (r.rate_key !== null && !this.takeRateStart(r)) return false;
    if (conc !== null) this.running.set(conc, running + 1);
    return true;
  }

  /** Counts a start in the row's rate window, or defers the row to the next window when it is spent. */
  private takeRateStart(r: JobRow): boolean {
    const key = r.rate_key!;
    const per = r.rate_per_ms!;
    const windowStart = Math.floor(this.now / per) * per;
    if (!this.pruned.has(key)) {
      this.pruned.add(key);
      // Windows before the previous one: a clock stepping back a little still finds its window.
      this.db.stmt('DELETE FROM jobs_rates WHERE key = ? AND window_start < ?').run(key, windowStart - per);
    }
    const starts =
      this.db.stmt<[string, number], { starts: number }>('SELECT starts FROM jobs_rates WHERE key = ? AND window_start = ?').get(key, windowStart)?.starts ?? 0;
    if (starts >= r.rate_limit!) {
      const jitter = Math.floor(Math.random() * (Math.min(per / 10, MAX_JITTER_MS) + 1));
      this.db
        .stmt(
          `UPDATE jobs SET status = 'new', attempts = attempts - 1, owner = NULL, claimed_at = NULL, claim_token = NULL,
             scheduled_at = ?, rate_deferred = 1 WHERE id = ?`,
        )
        .run(windowStart + per + jitter, r.id);
      return false;
    }
    this.db
      .stmt('INSERT INTO jobs_rates (key, window_start, starts) VALUES (?, ?, 1) ON CONFLICT (key, window_start) DO UPDATE SET starts = starts + 1')
      .run(key, windowStart);
    return true;
  }
}

/**
 * After jobs with these concurrency keys stopped processing: puts up to (limit − processing)
 * blocked jobs of each key back to new, in claim order (the first blocked job's limit).
 */
export function freeSlots(db: SqliteDatabase, keys: Iterable<string | null>): void {
  for (const key of new Set(keys)) {
    if (key === null) continue;
    const first = db.stmt<[string], { lim: number }>(FIRST_BLOCKED).get(key);
    if (!first) continue;
    const free = first.lim - db.stmt<[string], { n: number }>(PROCESSING_OF_KEY).get(key)!.n;
    if (free > 0) db.stmt(UNBLOCK).run(key, free);
  }
}
