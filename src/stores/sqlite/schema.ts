// The SQLite jobs table mirrors the MySQL one; times are integer ms since the epoch (UTC).
// AUTOINCREMENT: ids of deleted (completed) jobs are never reused, so log lines stay unambiguous.
// Beside it: the runtime registry, paused queues, per-minute throughput counters (jobs_stats,
// written by record() in its transaction), named leases (the pruner's) and rate windows
// (jobs_rates: starts per key and fixed window, written by the claim in its transaction), and
// recurring schedules with their declarations and tick records (jobs_schedule*).
// Indexes are in INDEXES: they name columns an older file only has once ADDED_COLUMNS ran.
export const SCHEMA = `
CREATE TABLE IF NOT EXISTS jobs (
  id             INTEGER PRIMARY KEY AUTOINCREMENT,
  handler        TEXT    NOT NULL,
  queue          TEXT    NOT NULL,
  payload        TEXT    NOT NULL,
  status         TEXT    NOT NULL DEFAULT 'new',
  attempts       INTEGER NOT NULL DEFAULT 0,
  exception      TEXT,
  created_at     INTEGER NOT NULL,
  scheduled_at   INTEGER NOT NULL,
  failed_at      INTEGER,
  max_attempts   INTEGER NOT NULL DEFAULT 1,
  retry_after_ms INTEGER NOT NULL DEFAULT 0,
  timeout_ms     INTEGER,
  owner          TEXT,
  claimed_at     INTEGER,
  interruptions  INTEGER NOT NULL DEFAULT 0,
  completed_at   INTEGER,
  claim_token    TEXT,
  priority          INTEGER NOT NULL DEFAULT 0,
  retry_policy      TEXT,
  unique_key        TEXT,
  unique_until      TEXT,
  unique_expires_at INTEGER,
  concurrency_key   TEXT,
  concurrency_limit INTEGER,
  rate_key          TEXT,
  rate_limit        INTEGER,
  rate_per_ms       INTEGER,
  rate_deferred     INTEGER NOT NULL DEFAULT 0
);
-- Earlier versions indexed owner; every claim and result paid for it, and a runtime's jobs are
-- found through status = 'processing' (jobs_claim) instead.
DROP INDEX IF EXISTS jobs_owner;
CREATE TABLE IF NOT EXISTS jobs_runtimes (
  id           TEXT    PRIMARY KEY,
  host         TEXT    NOT NULL,
  pid          INTEGER NOT NULL,
  queues       TEXT,
  threads      INTEGER NOT NULL,
  started_at   INTEGER NOT NULL,
  heartbeat_at INTEGER NOT NULL,
  cpu_percent  REAL    NOT NULL DEFAULT 0,
  rss_bytes    INTEGER NOT NULL DEFAULT 0,
  jobs_done    INTEGER NOT NULL DEFAULT 0,
  jobs_failed  INTEGER NOT NULL DEFAULT 0,
  busy_threads INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS jobs_paused (
  queue     TEXT    PRIMARY KEY,
  paused_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS jobs_stats (
  minute    INTEGER NOT NULL,
  queue     TEXT    NOT NULL,
  completed INTEGER NOT NULL DEFAULT 0,
  failed    INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (minute, queue)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS jobs_leases (
  name       TEXT    PRIMARY KEY,
  owner      TEXT    NOT NULL,
  expires_at INTEGER NOT NULL
);
-- Recurring schedules (issue 16): definitions (job: the NewJob JSON each tick enqueues), which
-- runtimes declare the static ones, and one row per tick enqueued: its primary key is what
-- makes a tick run once, however many runtimes try it.
CREATE TABLE IF NOT EXISTS jobs_schedules (
  key          TEXT    PRIMARY KEY,
  kind         TEXT    NOT NULL,
  cron         TEXT    NOT NULL,
  tz           TEXT    NOT NULL,
  misfire      TEXT    NOT NULL,
  job          TEXT    NOT NULL,
  last_tick_at INTEGER,
  last_job_id  INTEGER,
  updated_at   INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS jobs_schedule_declarations (
  key        TEXT NOT NULL,
  runtime_id TEXT NOT NULL,
  PRIMARY KEY (key, runtime_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS jobs_schedule_declarations_runtime ON jobs_schedule_declarations (runtime_id);
CREATE TABLE IF NOT EXISTS jobs_schedule_ticks (
  key     TEXT    NOT NULL,
  tick_at INTEGER NOT NULL,
  job_id  INTEGER NOT NULL,
  PRIMARY KEY (key, tick_at)
) WITHOUT ROWID;
-- Job outcomes (issue 17): one event per result or recovery, written in its transaction when
-- the runtime keeps outcomes; seq is the event id (AUTOINCREMENT: one writer at a time, so seq
-- order is commit order, and pruned ids are never reused). Read by job (waitFor), by seq
-- (jobEvents), pruned by age.
CREATE TABLE IF NOT EXISTS jobs_outcomes (
  seq         INTEGER PRIMARY KEY AUTOINCREMENT,
  job_id      INTEGER NOT NULL,
  kind        TEXT    NOT NULL,
  handler     TEXT    NOT NULL,
  queue       TEXT    NOT NULL,
  attempt     INTEGER NOT NULL,
  duration_ms REAL,
  error       TEXT,
  result      TEXT,
  at          INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS jobs_outcomes_job ON jobs_outcomes (job_id, seq);
CREATE INDEX IF NOT EXISTS jobs_outcomes_at ON jobs_outcomes (at);
CREATE TABLE IF NOT EXISTS jobs_rates (
  key          TEXT    NOT NULL,
  window_start INTEGER NOT NULL,
  starts       INTEGER NOT NULL,
  PRIMARY KEY (key, window_start)
) WITHOUT ROWID;
`;

/**
 * The jobs indexes: name → columns (and WHERE of a partial index). An existing index of that
 * name with other columns (a file from before issue 15) is dropped and made again.
 * - jobs_claim, jobs_claim_queue: a claim's range per priority (status, priority, due time):
 *   index-ordered, so no sort whatever the table holds.
 * - jobs_unique: enforces unique keys (handler scope); partial, so jobs without one cost nothing.
 * - jobs_concurrency: processing and blocked jobs of one key, in claim order.
 */
export const INDEXES: Record<string, { unique?: boolean; columns: string; where?: string }> = {
  jobs_claim: { columns: 'status, priority, scheduled_at, id' },
  jobs_claim_queue: { columns: 'queue, status, priority, scheduled_at, id' },
  jobs_unique: { unique: true, columns: 'handler, unique_key', where: 'unique_key IS NOT NULL' },
  jobs_concurrency: { columns: 'concurrency_key, status, priority, scheduled_at, id', where: 'concurrency_key IS NOT NULL' },
};

/** The CREATE INDEX statement of one of INDEXES. */
export function indexDdl(name: string): string {
  const ix = INDEXES[name]!;
  return `CREATE ${ix.unique ? 'UNIQUE ' : ''}INDEX IF NOT EXISTS ${name} ON jobs (${ix.columns})${ix.where ? ` WHERE ${ix.where}` : ''}`;
}

/** Columns added after the first release, for files created before them: name → definition. */
export const ADDED_COLUMNS: Record<string, string> = {
  interruptions: 'INTEGER NOT NULL DEFAULT 0',
  completed_at: 'INTEGER',
  claim_token: 'TEXT',
  // Flow control (issue 15).
  priority: 'INTEGER NOT NULL DEFAULT 0',
  retry_policy: 'TEXT',
  unique_key: 'TEXT',
  unique_until: 'TEXT',
  unique_expires_at: 'INTEGER',
  concurrency_key: 'TEXT',
  concurrency_limit: 'INTEGER',
  rate_key: 'TEXT',
  rate_limit: 'INTEGER',
  rate_per_ms: 'INTEGER',
  rate_deferred: 'INTEGER NOT NULL DEFAULT 0',
};

// ---- Registry columns added after jobs_runtimes first shipped (issue 12) -------------------
/** Columns of jobs_runtimes added later, for files created before them: name → definition. */
export const RUNTIMES_ADDED_COLUMNS: Record<string, string> = {
  // Job slots (threads × concurrency): what `status` shows busy slots against.
  slots: 'INTEGER',
};
// ---- end of the registry columns block ------------------------------------------------------
