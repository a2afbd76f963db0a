// The SQLite jobs table mirrors the MySQL one; times are integer ms since the epoch (UTC).
// AUTOINCREMENT: ids of deleted (completed) jobs are never reused, so log lines stay unambiguous.
// Beside it: the runtime registry, paused queues, per-minute throughput counters (jobs_stats,
// written by record() in its transaction) and named leases (the pruner's).
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
  claim_token    TEXT
);
CREATE INDEX IF NOT EXISTS jobs_claim ON jobs (status, scheduled_at, id);
CREATE INDEX IF NOT EXISTS jobs_claim_queue ON jobs (queue, status, scheduled_at, id);
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
`;

/** Columns added after the first release, for files created before them: name → definition. */
export const ADDED_COLUMNS: Record<string, string> = {
  interruptions: 'INTEGER NOT NULL DEFAULT 0',
  completed_at: 'INTEGER',
  claim_token: 'TEXT',
};

// ---- Registry columns added after jobs_runtimes first shipped (issue 12) -------------------
/** Columns of jobs_runtimes added later, for files created before them: name → definition. */
export const RUNTIMES_ADDED_COLUMNS: Record<string, string> = {
  // Job slots (threads × concurrency): what `status` shows busy slots against.
  slots: 'INTEGER',
};
// ---- end of the registry columns block ------------------------------------------------------
