// The tables of recurring schedules (issue 16), beside the jobs table and named after it;
// created by `jobs-runtime migrate` (schema.ts planMigration). Keys are binary-collated, as
// every key of this store. Tick times are ms since the epoch (BIGINT): the exact value runtimes
// compute, so (schedule, tick) compares equal whoever computed it.

const TABLE_OPTIONS = 'ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci';
const KEY_COLUMN = 'VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL';

/** One row per schedule: its definition (job: the NewJob JSON each tick enqueues) and its latest tick. */
export function createSchedulesTableSql(table: string): string {
  return `CREATE TABLE IF NOT EXISTS ${table}_schedules (
  schedule_key ${KEY_COLUMN},
  kind VARCHAR(7) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  cron VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  tz VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  misfire VARCHAR(4) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  job LONGTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  last_tick_at BIGINT UNSIGNED NULL,
  last_job_id BIGINT UNSIGNED NULL,
  updated_at DATETIME(3) NOT NULL,
  PRIMARY KEY (schedule_key)
) ${TABLE_OPTIONS}`;
}

/** Which registered runtimes declare a static schedule: it applies while one does. */
export function createScheduleDeclarationsTableSql(table: string): string {
  return `CREATE TABLE IF NOT EXISTS ${table}_schedule_declarations (
  schedule_key ${KEY_COLUMN},
  runtime_id VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  PRIMARY KEY (schedule_key, runtime_id),
  KEY runtime_id (runtime_id)
) ${TABLE_OPTIONS}`;
}

/** One row per tick enqueued: its primary key is what makes a tick run once. Pruned after 7 days. */
export function createScheduleTicksTableSql(table: string): string {
  return `CREATE TABLE IF NOT EXISTS ${table}_schedule_ticks (
  schedule_key ${KEY_COLUMN},
  tick_at BIGINT UNSIGNED NOT NULL,
  job_id BIGINT UNSIGNED NULL,
  PRIMARY KEY (schedule_key, tick_at)
) ${TABLE_OPTIONS}`;
}
