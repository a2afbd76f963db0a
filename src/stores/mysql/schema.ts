import type { Connection, RowDataPacket } from 'mysql2/promise';
import { createOutcomesTableSql } from './outcomes.js';
import { createScheduleDeclarationsTableSql, createScheduleTicksTableSql, createSchedulesTableSql } from './schedules-schema.js';

// The seed's `jobs` table, widened where it was too small for a production runtime:
// BIGINT ids, LONGTEXT utf8mb4 payloads (the seed's utf8 cannot hold emoji), DATETIME(3) for
// millisecond scheduling, and the columns the runtime needs (limits per job, claim owner).
// All times are UTC: every connection sets time_zone = '+00:00'.

const TEXT_UTF8MB4 = 'CHARACTER SET utf8mb4 COLLATE utf8mb4_bin';

/** Column definitions in table order; `type` is what INFORMATION_SCHEMA must show. */
const COLUMNS: Array<{ name: string; ddl: string; matches: (c: ColumnInfo) => boolean }> = [
  {
    name: 'id',
    ddl: 'BIGINT UNSIGNED NOT NULL AUTO_INCREMENT',
    matches: (c) => c.COLUMN_TYPE === 'bigint(20) unsigned' || c.COLUMN_TYPE === 'bigint unsigned',
  },
  {
    name: 'handler',
    ddl: `VARCHAR(255) ${TEXT_UTF8MB4} NOT NULL`,
    matches: (c) => c.DATA_TYPE === 'varchar' && Number(c.CHARACTER_MAXIMUM_LENGTH) >= 255 && isMb4(c),
  },
  {
    name: 'queue',
    ddl: `VARCHAR(64) ${TEXT_UTF8MB4} NOT NULL`,
    matches: (c) => c.DATA_TYPE === 'varchar' && Number(c.CHARACTER_MAXIMUM_LENGTH) >= 64 && isMb4(c),
  },
  { name: 'payload', ddl: `LONGTEXT ${TEXT_UTF8MB4} NOT NULL`, matches: (c) => c.DATA_TYPE === 'longtext' && isMb4(c) },
  { name: 'status', ddl: "VARCHAR(55) NOT NULL DEFAULT 'new'", matches: (c) => c.DATA_TYPE === 'varchar' },
  { name: 'attempts', ddl: 'INT NOT NULL DEFAULT 0', matches: (c) => c.DATA_TYPE === 'int' },
  { name: 'exception', ddl: `LONGTEXT ${TEXT_UTF8MB4} NULL`, matches: (c) => c.DATA_TYPE === 'longtext' && isMb4(c) },
  { name: 'created_at', ddl: 'DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3)', matches: isDatetime3 },
  { name: 'scheduled_at', ddl: 'DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3)', matches: isDatetime3 },
  { name: 'failed_at', ddl: 'DATETIME(3) NULL', matches: isDatetime3 },
  // Added by jobs-runtime:
  { name: 'max_attempts', ddl: 'INT NOT NULL DEFAULT 1', matches: (c) => c.DATA_TYPE === 'int' },
  { name: 'retry_after_ms', ddl: 'BIGINT UNSIGNED NOT NULL DEFAULT 0', matches: (c) => c.DATA_TYPE === 'bigint' },
  { name: 'timeout_ms', ddl: 'BIGINT UNSIGNED NULL', matches: (c) => c.DATA_TYPE === 'bigint' },
  { name: 'owner', ddl: 'VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NULL', matches: (c) => c.DATA_TYPE === 'varchar' },
  { name: 'claimed_at', ddl: 'DATETIME(3) NULL', matches: isDatetime3 },
  { name: 'interruptions', ddl: 'INT NOT NULL DEFAULT 0', matches: (c) => c.DATA_TYPE === 'int' },
  // When a job kept by --keep-completed finished: what its retention counts from.
  { name: 'completed_at', ddl: 'DATETIME(3) NULL', matches: isDatetime3 },
  // The fencing token of the current claim (claim-token.ts): results and releases must match it.
  { name: 'claim_token', ddl: 'CHAR(16) CHARACTER SET ascii COLLATE ascii_bin NULL', matches: (c) => c.DATA_TYPE === 'char' },
  // Flow control (issue 15). Keys are binary-collated: 'a' and 'A' are different keys, as on the other stores.
  { name: 'priority', ddl: 'SMALLINT NOT NULL DEFAULT 0', matches: (c) => c.DATA_TYPE === 'smallint' },
  // JSON of the retry policy, stored and returned as written (the runtime reads it).
  { name: 'retry_policy', ddl: `VARCHAR(1000) ${TEXT_UTF8MB4} NULL`, matches: (c) => c.DATA_TYPE === 'varchar' },
  // The unique key while the job holds it (NULL once released: NULLs never collide in jobs_unique).
  { name: 'unique_key', ddl: `VARCHAR(255) ${TEXT_UTF8MB4} NULL`, matches: isKeyColumn },
  { name: 'unique_until', ddl: 'VARCHAR(7) CHARACTER SET ascii COLLATE ascii_bin NULL', matches: (c) => c.DATA_TYPE === 'varchar' },
  // End of the `for` window: a holder past it gives its key up to the next enqueue of the key.
  { name: 'unique_expires_at', ddl: 'DATETIME(3) NULL', matches: isDatetime3 },
  { name: 'concurrency_key', ddl: `VARCHAR(255) ${TEXT_UTF8MB4} NULL`, matches: isKeyColumn },
  { name: 'concurrency_limit', ddl: 'INT NULL', matches: (c) => c.DATA_TYPE === 'int' },
  { name: 'rate_key', ddl: `VARCHAR(255) ${TEXT_UTF8MB4} NULL`, matches: isKeyColumn },
  { name: 'rate_limit', ddl: 'INT NULL', matches: (c) => c.DATA_TYPE === 'int' },
  { name: 'rate_per_ms', ddl: 'BIGINT UNSIGNED NULL', matches: (c) => c.DATA_TYPE === 'bigint' },
  // 1 while a rate limit has deferred the job (cleared by the claim that takes it): counts() reports it.
  { name: 'rate_deferred', ddl: 'TINYINT NOT NULL DEFAULT 0', matches: (c) => c.DATA_TYPE === 'tinyint' },
];

/**
 * Claim indexes. Ordering by (scheduled_at, id) inside (status[, queue], priority) lets a claim
 * read exactly the rows it takes, whatever the table size: per priority (equality) the range
 * `scheduled_at <= now` is also the sort order, so there is no filesort and no scan past done or
 * delayed rows; the priorities present are read with a loose index scan of the same index
 * (claim-sql.ts). rate_deferred ends jobs_claim_queue so that counts() stays an index-only scan.
 * jobs_unique enforces unique keys (NULLs never collide); jobs_concurrency counts a key's
 * processing jobs and finds its blocked ones in claim order.
 * A runtime's own jobs are found through `status = 'processing'`, the prefix of jobs_claim.
 */
export const INDEXES: Array<{ name: string; columns: string; unique?: boolean }> = [
  { name: 'jobs_claim', columns: 'status, priority, scheduled_at, id' },
  { name: 'jobs_claim_queue', columns: 'queue, status, priority, scheduled_at, id, rate_deferred' },
  { name: 'jobs_unique', columns: 'unique_key, handler', unique: true },
  { name: 'jobs_concurrency', columns: 'concurrency_key, status, priority, scheduled_at, id' },
];
/** Indexes earlier versions created, dropped by migrate: they cost every job and serve no query. */
const OBSOLETE_INDEXES = ['jobs_owner'];

interface ColumnInfo extends RowDataPacket {
  COLUMN_NAME: string;
  DATA_TYPE: string;
  COLUMN_TYPE: string;
  CHARACTER_MAXIMUM_LENGTH: number | string | null;
  CHARACTER_SET_NAME: string | null;
  DATETIME_PRECISION: number | string | null;
}

function isMb4(c: ColumnInfo): boolean {
  return c.CHARACTER_SET_NAME === 'utf8mb4';
}
function isKeyColumn(c: ColumnInfo): boolean {
  return c.DATA_TYPE === 'varchar' && Number(c.CHARACTER_MAXIMUM_LENGTH) >= 255 && isMb4(c);
}
function isDatetime3(c: ColumnInfo): boolean {
  return c.DATA_TYPE === 'datetime' && Number(c.DATETIME_PRECISION) >= 3;
}

export function createTableSql(table: string): string {
  const cols = COLUMNS.map((c) => `  ${c.name} ${c.ddl}`);
  const keys = INDEXES.map((i) => `  ${i.unique ? 'UNIQUE ' : ''}KEY ${i.name} (${i.columns})`);
  return `CREATE TABLE ${table} (\n${[...cols, '  PRIMARY KEY (id)', ...keys].join(',\n')}\n) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`;
}

/** The registry of running runtimes (masters): one row each, refreshed by its heartbeat. */
export function createRuntimesTableSql(table: string): string {
  return `CREATE TABLE IF NOT EXISTS ${table}_runtimes (
  id VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  host VARCHAR(255) NOT NULL,
  pid INT NOT NULL,
  queues TEXT NULL,
  threads INT NOT NULL,
  started_at DATETIME(3) NOT NULL,
  heartbeat_at DATETIME(3) NOT NULL,
  cpu_percent DOUBLE NOT NULL DEFAULT 0,
  rss_bytes BIGINT UNSIGNED NOT NULL DEFAULT 0,
  jobs_done BIGINT UNSIGNED NOT NULL DEFAULT 0,
  jobs_failed BIGINT UNSIGNED NOT NULL DEFAULT 0,
  busy_threads INT NOT NULL DEFAULT 0,
${RUNTIME_ADDED_COLUMNS.map((c) => `  ${c.name} ${c.ddl},\n`).join('')}  PRIMARY KEY (id),
  KEY heartbeat_at (heartbeat_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`;
}

/** Paused queues: a claim skips every queue listed here (see claim-sql.ts). */
export function createPausedTableSql(table: string): string {
  return `CREATE TABLE IF NOT EXISTS ${table}_paused (
  queue VARCHAR(64) ${TEXT_UTF8MB4} NOT NULL,
  paused_at DATETIME(3) NOT NULL,
  PRIMARY KEY (queue)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`;
}

/**
 * Jobs finished per queue and minute (minutes since the epoch), written by record() in the same
 * transaction as the rows it counts, so throughput outlives deleted rows. `slot` spreads the
 * runtimes over a few rows per queue and minute (CRC32 of the owner, mod STATS_SLOTS): two
 * runtimes recording at once then rarely wait on the same row lock.
 */
export function createStatsTableSql(table: string): string {
  return `CREATE TABLE IF NOT EXISTS ${table}_stats (
  minute INT UNSIGNED NOT NULL,
  queue VARCHAR(64) ${TEXT_UTF8MB4} NOT NULL,
  slot TINYINT UNSIGNED NOT NULL,
  completed BIGINT UNSIGNED NOT NULL DEFAULT 0,
  failed BIGINT UNSIGNED NOT NULL DEFAULT 0,
  PRIMARY KEY (minute, queue, slot)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`;
}
export const STATS_SLOTS = 8;

/** Named leases (the pruner's): one holder at a time, until expires_at by the database clock. */
export function createLeasesTableSql(table: string): string {
  return `CREATE TABLE IF NOT EXISTS ${table}_leases (
  name VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  owner VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  expires_at DATETIME(3) NOT NULL,
  PRIMARY KEY (name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`;
}

/**
 * One row per concurrency key, locked (FOR UPDATE, or the X lock of an upsert) by every claim
 * that meets the key and by every write that frees one of its slots: claims and unblocks of a
 * key take turns, so a blocked job is never left waiting beside a free slot. The truth of how
 * many run stays the jobs in status 'processing' (jobs_concurrency): no counter here can drift.
 */
export function createLimitsTableSql(table: string): string {
  return `CREATE TABLE IF NOT EXISTS ${table}_limits (
  concurrency_key VARCHAR(255) ${TEXT_UTF8MB4} NOT NULL,
  PRIMARY KEY (concurrency_key)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`;
}

/**
 * Starts per rate key and fixed window (window_start = floor(now / perMs) * perMs, ms since the
 * epoch, store clock), counted by the claims that take jobs; a window's row is locked by the
 * claims that count in it, and pruned once it has ended.
 */
export function createRatesTableSql(table: string): string {
  return `CREATE TABLE IF NOT EXISTS ${table}_rates (
  rate_key VARCHAR(255) ${TEXT_UTF8MB4} NOT NULL,
  window_start BIGINT UNSIGNED NOT NULL,
  window_end BIGINT UNSIGNED NOT NULL,
  starts INT NOT NULL DEFAULT 0,
  PRIMARY KEY (rate_key, window_start)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`;
}

/** The statements that bring `table` and the tables beside it up to date (none when they already are). */
export async function planMigration(conn: Connection, table: string): Promise<string[]> {
  const beside: Array<[string, (t: string) => string]> = [
    [`${table}_runtimes`, createRuntimesTableSql],
    [`${table}_paused`, createPausedTableSql],
    [`${table}_stats`, createStatsTableSql],
    [`${table}_leases`, createLeasesTableSql],
    [`${table}_limits`, createLimitsTableSql],
    [`${table}_rates`, createRatesTableSql],
    [`${table}_schedules`, createSchedulesTableSql],
    [`${table}_schedule_declarations`, createScheduleDeclarationsTableSql],
    [`${table}_schedule_ticks`, createScheduleTicksTableSql],
    [`${table}_outcomes`, createOutcomesTableSql],
  ];
  const [have] = await conn.query<RowDataPacket[]>(
    'SELECT TABLE_NAME AS name FROM INFORMATION_SCHEMA.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME IN (?)',
    [beside.map(([name]) => name)],
  );
  const existing = new Set(have.map((r) => String(r.name)));
  const missing = beside.filter(([name]) => !existing.has(name)).map(([, sql]) => sql(table));
  const runtimes = existing.has(`${table}_runtimes`) ? await planRuntimesColumns(conn, table) : [];
  return [...(await planJobsTable(conn, table)), ...missing, ...runtimes];
}

// ---- Registry columns added after the runtimes table first shipped (issue 12) ----------------
// Kept in a block of their own: new tables get them from createRuntimesTableSql, and `migrate`
// adds the missing ones to an existing table in one ALTER, keeping its rows.
const RUNTIME_ADDED_COLUMNS: Array<{ name: string; ddl: string }> = [
  // Job slots (threads × concurrency): what `status` shows busy slots against.
  { name: 'slots', ddl: 'INT NULL' },
  // host:port of the runtime's UDP wake-up socket, read (cached) by dispatchers on any host.
  { name: 'wake_address', ddl: 'VARCHAR(300) CHARACTER SET ascii COLLATE ascii_bin NULL' },
];

async function planRuntimesColumns(conn: Connection, table: string): Promise<string[]> {
  const [cols] = await conn.query<RowDataPacket[]>(
    'SELECT COLUMN_NAME AS name FROM INFORMATION_SCHEMA.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?',
    [`${table}_runtimes`],
  );
  const have = new Set(cols.map((c) => String(c.name).toLowerCase()));
  const add = RUNTIME_ADDED_COLUMNS.filter((c) => !have.has(c.name)).map((c) => `ADD COLUMN ${c.name} ${c.ddl}`);
  return add.length ? [`ALTER TABLE ${table}_runtimes\n  ${add.join(',\n  ')}`] : [];
}
// ---- end of the registry columns block ------------------------------------------------------

async function planJobsTable(conn: Connection, table: string): Promise<string[]> {
  const [cols] = await conn.query<ColumnInfo[]>(
    `SELECT COLUMN_NAME, DATA_TYPE, COLUMN_TYPE, CHARACTER_MAXIMUM_LENGTH, CHARACTER_SET_NAME, DATETIME_PRECISION
       FROM INFORMATION_SCHEMA.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?`,
    [table],
  );
  if (cols.length === 0) return [createTableSql(table)];

  const byName = new Map(cols.map((c) => [c.COLUMN_NAME.toLowerCase(), c]));
  const changes: string[] = [];
  let previous = '';
  for (const col of COLUMNS) {
    const have = byName.get(col.name);
    if (!have) changes.push(`ADD COLUMN ${col.name} ${col.ddl}${previous ? ` AFTER ${previous}` : ''}`);
    else if (!col.matches(have)) changes.push(`MODIFY COLUMN ${col.name} ${col.ddl}`);
    previous = col.name;
  }
  const [idx] = await conn.query<RowDataPacket[]>(
    `SELECT INDEX_NAME, GROUP_CONCAT(COLUMN_NAME ORDER BY SEQ_IN_INDEX SEPARATOR ', ') AS cols, MIN(NON_UNIQUE) AS non_unique
       FROM INFORMATION_SCHEMA.STATISTICS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? GROUP BY INDEX_NAME`,
    [table],
  );
  const haveIndexes = new Map(idx.map((r) => [String(r.INDEX_NAME), { cols: String(r.cols).toLowerCase(), unique: Number(r.non_unique) === 0 }]));
  for (const i of INDEXES) {
    const have = haveIndexes.get(i.name);
    if (have && have.cols === i.columns && have.unique === (i.unique === true)) continue;
    // An index of an earlier version under the same name (jobs_claim before priorities) is replaced in the same ALTER.
    if (have) changes.push(`DROP KEY ${i.name}`);
    changes.push(`ADD ${i.unique ? 'UNIQUE ' : ''}KEY ${i.name} (${i.columns})`);
  }
  for (const name of OBSOLETE_INDEXES) if (haveIndexes.has(name)) changes.push(`DROP KEY ${name}`);
  // One ALTER: the table is rebuilt at most once, and the change is all or nothing.
  return changes.length ? [`ALTER TABLE ${table}\n  ${changes.join(',\n  ')}`] : [];
}
