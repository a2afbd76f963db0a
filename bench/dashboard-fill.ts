// Fills a bench store with `n` jobs fast: a tenth failed on queue 'f', the rest waiting on queue
// 'a' at priorities −2…2 (due over the last hour), one handler in ten mail/Send. The SQL stores
// get one statement (MariaDB: INSERT … SELECT from seq_1_to_N; SQLite: a recursive CTE in one
// transaction); Redis gets the store's own enqueue in 5,000-job scripts, several in flight (its
// coalescer pipelines them), and its failed jobs through claim and record, 1,000 a round. On
// every store the last 1,000 failures go through claim and record, so throughput is counted.
import Database from 'better-sqlite3';
import mysql from 'mysql2/promise';
import type { JobStore, NewJob } from '../src/stores/store.ts';
import type { BenchStore } from './lib.ts';

const THROUGH_STORE = 1_000;

export async function fillDashboard(b: BenchStore, n: number): Promise<void> {
  const failedDirect = Math.max(0, Math.floor(n / 10) - THROUGH_STORE);
  const waiting = n - failedDirect - THROUGH_STORE;
  if (b.kind === 'mysql') await fillMysql(b.url, waiting, failedDirect);
  else if (b.kind === 'sqlite') fillSqlite(b.url.replace(/^sqlite:/, ''), waiting, failedDirect);
  else await fillRedis(b.store, waiting, failedDirect);
  await failThroughStore(b.store, THROUGH_STORE);
}

async function fillMysql(url: string, waiting: number, failed: number): Promise<void> {
  const conn = await mysql.createConnection({ uri: url });
  try {
    await conn.query(`INSERT INTO jobs (handler, queue, payload, status, priority, scheduled_at)
      SELECT IF(seq % 10 = 0, 'mail/Send', 'Ok'), 'a', '{"n":1}', 'new', CAST(seq % 5 AS SIGNED) - 2,
             UTC_TIMESTAMP(3) - INTERVAL (seq % 3600) SECOND
        FROM seq_1_to_${waiting}`);
    if (failed > 0)
      await conn.query(`INSERT INTO jobs (handler, queue, payload, status, attempts, priority, scheduled_at, failed_at, exception)
        SELECT IF(seq % 10 = 0, 'mail/Send', 'Ok'), 'f', '{"n":1}', 'failed', 1, 0, UTC_TIMESTAMP(3) - INTERVAL 1 HOUR,
               UTC_TIMESTAMP(3) - INTERVAL (seq % 3600) SECOND, 'Error: bench'
          FROM seq_1_to_${failed}`);
    await conn.query('ANALYZE TABLE jobs');
  } finally {
    await conn.end();
  }
}

function fillSqlite(file: string, waiting: number, failed: number): void {
  const db = new Database(file, { timeout: 30_000 });
  try {
    const now = Date.now();
    db.transaction(() => {
      db.exec(`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${waiting})
        INSERT INTO jobs (handler, queue, payload, status, created_at, scheduled_at, priority)
        SELECT CASE WHEN i % 10 = 0 THEN 'mail/Send' ELSE 'Ok' END, 'a', '{"n":1}', 'new', ${now - 3_600_000},
               ${now} - (i % 3600) * 1000, (i % 5) - 2
          FROM n`);
      if (failed > 0)
        db.exec(`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${failed})
          INSERT INTO jobs (handler, queue, payload, status, attempts, created_at, scheduled_at, failed_at, exception)
          SELECT CASE WHEN i % 10 = 0 THEN 'mail/Send' ELSE 'Ok' END, 'f', '{"n":1}', 'failed', 1, ${now - 3_600_000},
                 ${now - 3_600_000}, ${now} - (i % 3600) * 1000, 'Error: bench'
            FROM n`);
    })();
    db.exec('ANALYZE');
  } finally {
    db.close();
  }
}

const job = (i: number, queue: string): NewJob => ({
  handler: i % 10 === 0 ? 'mail/Send' : 'Ok',
  queue,
  payload: '{"n":1}',
  delayMs: 0,
  maxAttempts: 1,
  retryAfterMs: 0,
  timeoutMs: null,
  priority: queue === 'a' ? (i % 5) - 2 : 0,
});

async function fillRedis(store: JobStore, waiting: number, failed: number): Promise<void> {
  const CHUNK = 5_000;
  const IN_FLIGHT = 8;
  const enqueueAll = async (count: number, queue: string) => {
    const chunks: number[] = [];
    for (let done = 0; done < count; done += CHUNK) chunks.push(done);
    for (let k = 0; k < chunks.length; k += IN_FLIGHT)
      await Promise.all(
        chunks
          .slice(k, k + IN_FLIGHT)
          .map((done) => store.producer.enqueue({ jobs: Array.from({ length: Math.min(CHUNK, count - done) }, (_, i) => job(done + i, queue)) })),
      );
  };
  await enqueueAll(waiting, 'a');
  await enqueueAll(failed, 'f');
  await failAll(store);
}

async function failThroughStore(store: JobStore, count: number): Promise<void> {
  await store.producer.enqueue({ jobs: Array.from({ length: count }, (_, i) => job(i, 'f')) });
  await failAll(store);
}

/** Claims every waiting job of 'f' and records it failed. */
async function failAll(store: JobStore): Promise<void> {
  for (;;) {
    const claimed = await store.queue.claim({ owner: 'bench', queues: ['f'], limit: 1000 });
    if (claimed.length === 0) return;
    await store.queue.record({
      owner: 'bench',
      results: claimed.map((c) => ({ id: c.id, token: c.token, queue: 'f', outcome: 'failed' as const, error: 'Error: bench' })),
    });
  }
}
