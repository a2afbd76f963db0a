// The claim's SELECT, MySQL/MariaDB dialect. It runs inside a transaction followed by one
// UPDATE of the selected ids; SKIP LOCKED lets concurrent claimers pass each other's rows.
//
// FORCE INDEX: MariaDB 10.11 plans small LIMITs (`ORDER BY … LIMIT 1`) as a primary-key scan
// whose cost grows with every row in the table. With the index forced, the range
// `scheduled_at <= now` inside (status[, queue]) is read in (scheduled_at, id) order and the
// scan stops after `limit` rows: the cost does not depend on the table's size.

const COLUMNS = 'id, handler, queue, payload, attempts, max_attempts, retry_after_ms, timeout_ms';

/** Parameters: [queue, limit] when byQueue, else [limit]. */
export function selectDueSql(table: string, byQueue: boolean): string {
  return byQueue
    ? `SELECT ${COLUMNS} FROM ${table} FORCE INDEX (jobs_claim_queue)
        WHERE queue = ? AND status = 'new' AND scheduled_at <= UTC_TIMESTAMP(3)
        ORDER BY scheduled_at, id LIMIT ? FOR UPDATE SKIP LOCKED`
    : `SELECT ${COLUMNS} FROM ${table} FORCE INDEX (jobs_claim)
        WHERE status = 'new' AND scheduled_at <= UTC_TIMESTAMP(3)
        ORDER BY scheduled_at, id LIMIT ? FOR UPDATE SKIP LOCKED`;
}
