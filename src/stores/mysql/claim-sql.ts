// The claim's SELECT, MySQL/MariaDB dialect. It runs inside a transaction followed by one
// UPDATE of the selected ids; SKIP LOCKED lets concurrent claimers pass each other's rows.
//
// FORCE INDEX: MariaDB 10.11 plans small LIMITs (`ORDER BY … LIMIT 1`) as a primary-key scan
// whose cost grows with every row in the table. With the index forced, the range
// `scheduled_at <= now` inside (status[, queue]) is read in (scheduled_at, id) order and the
// scan stops after `limit` rows: the cost does not depend on the table's size.
//
// Paused queues (`<table>_paused`): for one queue, the NOT EXISTS names a constant key, so the
// server evaluates it once and a paused queue is an "Impossible WHERE" that reads no job row.
// Across all queues the small paused table is materialized once per claim and due rows of
// paused queues are read past (EXPLAIN still shows the jobs_claim range, no filesort); a
// paused queue with a large due backlog makes all-queue claims read past that backlog, so
// runtimes with an explicit --queue list do not pay for it.

const COLUMNS = 'id, handler, queue, payload, attempts, max_attempts, retry_after_ms, timeout_ms, scheduled_at';

/** Parameters: see selectDueArgs. */
export function selectDueSql(table: string, byQueue: boolean): string {
  return byQueue
    ? `SELECT ${COLUMNS} FROM ${table} FORCE INDEX (jobs_claim_queue)
        WHERE queue = ? AND status = 'new' AND scheduled_at <= UTC_TIMESTAMP(3)
          AND NOT EXISTS (SELECT 1 FROM ${table}_paused WHERE queue = ?)
        ORDER BY scheduled_at, id LIMIT ? FOR UPDATE SKIP LOCKED`
    : `SELECT ${COLUMNS} FROM ${table} FORCE INDEX (jobs_claim)
        WHERE status = 'new' AND scheduled_at <= UTC_TIMESTAMP(3)
          AND queue NOT IN (SELECT queue FROM ${table}_paused)
        ORDER BY scheduled_at, id LIMIT ? FOR UPDATE SKIP LOCKED`;
}

/** Arguments of selectDueSql, in its order. */
export function selectDueArgs(queue: string | null, limit: number): unknown[] {
  return queue === null ? [limit] : [queue, queue, limit];
}

/**
 * The claim of given ids, one autocommit UPDATE by primary key and the read of what it took,
 * in one round trip: due, new, not paused and (byQueue) in the runtime's queues. Parameters:
 * owner, token, ids, [queues,] then ids and token again. Result sets: the UPDATE, the rows
 * (attempts read after the UPDATE, so already charged).
 */
export function claimIdsSql(table: string, byQueue: boolean): string {
  return `UPDATE ${table} SET status = 'processing', attempts = attempts + 1, owner = ?, claimed_at = UTC_TIMESTAMP(3), claim_token = ?
      WHERE id IN (?) AND status = 'new' AND scheduled_at <= UTC_TIMESTAMP(3)${byQueue ? ' AND queue IN (?)' : ''}
        AND queue NOT IN (SELECT queue FROM ${table}_paused);
    SELECT ${COLUMNS} FROM ${table} WHERE id IN (?) AND claim_token = ? ORDER BY scheduled_at, id`;
}
