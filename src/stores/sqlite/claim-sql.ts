// The claim's statements, SQLite dialect (exported for the EXPLAIN QUERY PLAN test). A claim
// reads one priority at a time: `MIN(priority) … priority > ?` seeks the next priority present
// among new rows (one index probe), then that priority's due rows are a prefix range of
// jobs_claim / jobs_claim_queue (status, priority, scheduled_at, id) read in index order. One
// statement for all priorities would be index-ordered too, but it would read through every
// not-yet-due row of a more urgent priority before reaching a due one.

/** What a claim sets on each row it takes: the attempt is charged, a rate deferral's mark clears. */
const TAKE = `UPDATE jobs SET status = 'processing', attempts = attempts + 1, owner = ?, claimed_at = ?, claim_token = ?, rate_deferred = 0`;

/** The lowest priority above ? among new rows, any queue. */
export const NEXT_PRIORITY_ALL = `SELECT MIN(priority) AS p FROM jobs INDEXED BY jobs_claim WHERE status = 'new' AND priority > ?`;

/** The lowest priority above ? among new rows of one queue. */
export const NEXT_PRIORITY_QUEUE = `SELECT MIN(priority) AS p FROM jobs INDEXED BY jobs_claim_queue WHERE queue = ? AND status = 'new' AND priority > ?`;

/**
 * Takes up to n due rows of one priority, any queue not paused: (owner, now, token, priority, now, n).
 * The NOT IN reads the paused list once; due rows of paused queues are read past.
 */
export const TAKE_ALL = `${TAKE}
  WHERE id IN (SELECT id FROM jobs INDEXED BY jobs_claim WHERE status = 'new' AND priority = ? AND scheduled_at <= ?
                 AND queue NOT IN (SELECT queue FROM jobs_paused)
               ORDER BY scheduled_at, id LIMIT ?)
  RETURNING *`;

/** Takes up to n due rows of one priority of one queue: (owner, now, token, queue, priority, now, n). */
export const TAKE_QUEUE = `${TAKE}
  WHERE id IN (SELECT id FROM jobs INDEXED BY jobs_claim_queue WHERE queue = ? AND status = 'new' AND priority = ? AND scheduled_at <= ?
               ORDER BY scheduled_at, id LIMIT ?)
  RETURNING *`;

/** Takes the due ones of the given ids: (owner, now, token, ...ids, now, ...queues). */
export function takeByIds(ids: number, queues: number | null): string {
  const inList = (n: number) => Array.from({ length: n }, () => '?').join(', ');
  return `${TAKE}
    WHERE id IN (${inList(ids)}) AND status = 'new' AND scheduled_at <= ?${queues !== null ? ` AND queue IN (${inList(queues)})` : ''}
      AND queue NOT IN (SELECT queue FROM jobs_paused)
    RETURNING *`;
}

// ---- concurrency keys (jobs_concurrency: concurrency_key, status, priority, scheduled_at, id) ----

/** Jobs of a key processing under other claims than this one: (key, token). */
export const PROCESSING_OF_KEY_OTHER_CLAIMS = `SELECT COUNT(*) AS n FROM jobs INDEXED BY jobs_concurrency
  WHERE concurrency_key = ? AND status = 'processing' AND claim_token IS NOT ?`;

/** Jobs of a key processing: (key). */
export const PROCESSING_OF_KEY = `SELECT COUNT(*) AS n FROM jobs INDEXED BY jobs_concurrency WHERE concurrency_key = ? AND status = 'processing'`;

/** The first blocked job of a key in claim order, for its limit: (key). */
export const FIRST_BLOCKED = `SELECT concurrency_limit AS lim FROM jobs INDEXED BY jobs_concurrency
  WHERE concurrency_key = ? AND status = 'blocked' ORDER BY priority, scheduled_at, id LIMIT 1`;

/** Puts the first n blocked jobs of a key (claim order) back to new: (key, n). */
export const UNBLOCK = `UPDATE jobs SET status = 'new'
  WHERE id IN (SELECT id FROM jobs INDEXED BY jobs_concurrency WHERE concurrency_key = ? AND status = 'blocked'
               ORDER BY priority, scheduled_at, id LIMIT ?)`;
