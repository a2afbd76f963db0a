// The claim's statements, MySQL/MariaDB dialect. They run inside one transaction (claim.ts),
// which ends with UPDATEs by id; SKIP LOCKED lets concurrent claimers pass each other's rows.
//
// Priorities: ORDER BY priority, scheduled_at after a range on scheduled_at is not index order
// (a filesort over every due row). So a claim first reads which priorities have due jobs, with a
// loose index scan of the claim index (selectPrioritiesSql: "Using index for group-by", one
// index dive per distinct priority, whatever the row count), then reads each priority with an
// equality on it, where the range `scheduled_at <= now` is again the index order.
//
// FORCE INDEX: MariaDB 10.11 plans small LIMITs (`ORDER BY … LIMIT 1`) as a primary-key scan
// whose cost grows with every row in the table. With the index forced, the range
// `scheduled_at <= now` inside (status[, queue], priority) is read in (scheduled_at, id) order
// and the scan stops after `limit` rows: the cost does not depend on the table's size.
//
// Paused queues (`<table>_paused`): for one queue, the NOT EXISTS names a constant key, so the
// server evaluates it once and a paused queue is an "Impossible WHERE" that reads no job row.
// Across all queues the small paused table is materialized once per claim and due rows of
// paused queues are read past (EXPLAIN still shows the jobs_claim range, no filesort); a
// paused queue with a large due backlog makes all-queue claims read past that backlog, so
// runtimes with an explicit --queue list do not pay for it.
//
// Rows of Lightpack's PHP workers (foreign-rows.ts) are filtered as the range is read, like
// paused queues: never locked, never taken.

import { type ForeignJobs, ownRowsArgs, ownRowsSql } from './foreign-rows.js';

/** What a claim reads of each row: what ClaimedJob returns and what flow control decides on. */
export const CLAIM_COLUMNS =
  'id, handler, queue, payload, attempts, max_attempts, retry_after_ms, timeout_ms, scheduled_at, priority, retry_policy, ' +
  'concurrency_key, concurrency_limit, rate_key, rate_limit, rate_per_ms';

/**
 * The priorities that have due new jobs (one queue, or all), lowest first. Parameters: see
 * selectPrioritiesArgs. MIN(scheduled_at) is the key part after the group's, so the loose index
 * scan answers it: priorities whose jobs are all delayed are left out without reading them.
 * The equalities are written as ranges (`x >= ? AND x <= ?`, the same rows): MariaDB 10.11 plans
 * an equality on the index prefix as a `ref` read of every row under it, and picks the loose
 * index scan only for a range (EXPLAIN: "Using index for group-by").
 */
export function selectPrioritiesSql(table: string, byQueue: boolean): string {
  return byQueue
    ? `SELECT priority FROM ${table} FORCE INDEX (jobs_claim_queue)
        WHERE queue >= ? AND queue <= ? AND status >= 'new' AND status <= 'new'
        GROUP BY queue, status, priority HAVING MIN(scheduled_at) <= UTC_TIMESTAMP(3) ORDER BY queue, status, priority`
    : `SELECT priority FROM ${table} FORCE INDEX (jobs_claim)
        WHERE status >= 'new' AND status <= 'new'
        GROUP BY status, priority HAVING MIN(scheduled_at) <= UTC_TIMESTAMP(3) ORDER BY status, priority`;
}

export function selectPrioritiesArgs(queue: string | null): unknown[] {
  return queue === null ? [] : [queue, queue];
}

/** Due new jobs of one priority (in one queue, or all), in claim order, locked. Parameters: see selectDueArgs. */
export function selectDueSql(table: string, byQueue: boolean, foreign: ForeignJobs): string {
  return byQueue
    ? `SELECT ${CLAIM_COLUMNS}, UNIX_TIMESTAMP(UTC_TIMESTAMP(3)) AS now_s FROM ${table} FORCE INDEX (jobs_claim_queue)
        WHERE queue = ? AND status = 'new' AND priority = ? AND scheduled_at <= UTC_TIMESTAMP(3)
          AND NOT EXISTS (SELECT 1 FROM ${table}_paused WHERE queue = ?)${ownRowsSql(foreign)}
        ORDER BY scheduled_at, id LIMIT ? FOR UPDATE SKIP LOCKED`
    : `SELECT ${CLAIM_COLUMNS}, UNIX_TIMESTAMP(UTC_TIMESTAMP(3)) AS now_s FROM ${table} FORCE INDEX (jobs_claim)
        WHERE status = 'new' AND priority = ? AND scheduled_at <= UTC_TIMESTAMP(3)
          AND queue NOT IN (SELECT queue FROM ${table}_paused)${ownRowsSql(foreign)}
        ORDER BY scheduled_at, id LIMIT ? FOR UPDATE SKIP LOCKED`;
}

/** Arguments of selectDueSql, in its order. */
export function selectDueArgs(queue: string | null, priority: number, limit: number, foreign: ForeignJobs): unknown[] {
  return queue === null ? [priority, ...ownRowsArgs(foreign), limit] : [queue, priority, queue, ...ownRowsArgs(foreign), limit];
}

/**
 * What a claim sets on the jobs it takes. A unique key held `until: 'started'` is released here,
 * in the claim's own statement; the rate-deferred mark clears. Parameters: owner, token, ids.
 */
export function takeSql(table: string): string {
  return `UPDATE ${table} SET status = 'processing', attempts = attempts + 1, owner = ?, claimed_at = UTC_TIMESTAMP(3), claim_token = ?,
      rate_deferred = 0, unique_key = IF(unique_until = 'started', NULL, unique_key)
    WHERE id IN (?)`;
}

/**
 * The claim of given ids, one autocommit UPDATE by primary key and the read of what it took,
 * in one round trip: due, new, not paused and (byQueue) in the runtime's queues. Jobs with a
 * concurrency or rate key are left to the regular claim that follows (their limits need the
 * claim's locks and counts). Parameters: owner, token, ids, [queues,] ownRowsArgs, then ids and
 * token again. Result sets: the UPDATE, the rows (attempts read after the UPDATE, so already charged).
 */
export function claimIdsSql(table: string, byQueue: boolean, foreign: ForeignJobs): string {
  return `UPDATE ${table} SET status = 'processing', attempts = attempts + 1, owner = ?, claimed_at = UTC_TIMESTAMP(3), claim_token = ?,
        rate_deferred = 0, unique_key = IF(unique_until = 'started', NULL, unique_key)
      WHERE id IN (?) AND status = 'new' AND scheduled_at <= UTC_TIMESTAMP(3)${byQueue ? ' AND queue IN (?)' : ''}
        AND concurrency_key IS NULL AND rate_key IS NULL
        AND queue NOT IN (SELECT queue FROM ${table}_paused)${ownRowsSql(foreign)};
    SELECT ${CLAIM_COLUMNS} FROM ${table} WHERE id IN (?) AND claim_token = ? ORDER BY scheduled_at, id`;
}
