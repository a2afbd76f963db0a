import { STATS_SLOTS } from './schema.js';

// The per-minute throughput counters that record() updates in the same statement batch.

/**
 * Adds what the statement just before it finished (its ROW_COUNT()) to one queue's counter in
 * <table>_stats. Parameters: queue, slot. Nothing is written when it changed no row.
 */
export function countFinishedSql(table: string, column: 'completed' | 'failed'): string {
  return `INSERT INTO ${table}_stats (minute, queue, slot, completed, failed)
    SELECT UNIX_TIMESTAMP() DIV 60, ?, ?, ${column === 'completed' ? 'ROW_COUNT(), 0' : '0, ROW_COUNT()'} FROM DUAL WHERE ROW_COUNT() > 0
    ON DUPLICATE KEY UPDATE ${column} = ${column} + VALUES(${column})`;
}

/** The stats row slot of one runtime: a stable hash of its id. */
export function statsSlot(owner: string): number {
  let h = 0;
  for (let i = 0; i < owner.length; i++) h = (h * 31 + owner.charCodeAt(i)) >>> 0;
  return h % STATS_SLOTS;
}
