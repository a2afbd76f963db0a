import type { RowDataPacket } from 'mysql2/promise';
import type { ThroughputMinute } from '../store.js';
import type { MySqlDatabase } from './database.js';

// Admin.throughputByMinute on MySQL: a range of the stats table's primary key (minute, queue,
// slot), summed per minute. 48 hours are 2,880 minutes × queues × slots rows at most.

export function throughputByMinuteMysql(db: MySqlDatabase, params: { sinceMs: number; queue?: string }): Promise<ThroughputMinute[]> {
  return db.run(async (conn) => {
    const [rows] = await conn.query<RowDataPacket[]>(
      `SELECT minute, SUM(completed) AS completed, SUM(failed) AS failed FROM ${db.table}_stats
        WHERE minute >= FLOOR((UNIX_TIMESTAMP(NOW(3)) * 1000 - ?) / 60000) ${params.queue !== undefined ? 'AND queue = ?' : ''}
        GROUP BY minute ORDER BY minute`,
      params.queue !== undefined ? [params.sinceMs, params.queue] : [params.sinceMs],
    );
    return rows.map((r) => ({ minuteMs: Number(r.minute) * 60_000, completed: Number(r.completed), failed: Number(r.failed) }));
  });
}
