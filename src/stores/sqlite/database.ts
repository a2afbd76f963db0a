import Database from './driver.js';
import { mkdirSync } from 'node:fs';
import { userInfo } from 'node:os';
import { dirname } from 'node:path';
import { StoreUnavailableError } from '../../errors.js';
import { ADDED_COLUMNS, INDEXES, indexDdl, RUNTIMES_ADDED_COLUMNS, SCHEMA } from './schema.js';

// The file every role of the SQLite store shares: one file, shared safely by every process on
// the host (WAL mode; a writer waits for the lock instead of failing). Times are integer ms
// since the epoch (UTC), read from this host's clock, which every process sharing the file also reads.

const BUSY_TIMEOUT_MS = 10_000;

export class SqliteDatabase {
  readonly displayUrl: string;
  readonly path: string;
  readonly handle: Database.Database;
  private readonly statements = new Map<string, Database.Statement>();

  constructor(options: { path: string }) {
    this.displayUrl = `sqlite:${options.path}`;
    this.path = options.path;
    try {
      if (options.path !== ':memory:') mkdirSync(dirname(options.path), { recursive: true });
      this.handle = new Database(options.path, { timeout: BUSY_TIMEOUT_MS });
    } catch (e) {
      // A raw 'unable to open database file' names neither the file nor the usual causes.
      throw new StoreUnavailableError(
        `Cannot open the SQLite file ${options.path} (${(e as Error).message}): its directory must exist or be creatable, and be writable by this user (${userInfo().username})`,
      );
    }
    this.handle.pragma('journal_mode = WAL');
    // FULL: a committed claim or result survives a power cut, not only a process kill.
    this.handle.pragma('synchronous = FULL');
    // Creating the schema is idempotent and cheap, so the embedded store needs no migrate step.
    this.handle.exec(SCHEMA);
    this.upgrade();
  }

  /**
   * Adds missing columns, then makes the indexes (remade where an older file has one of the
   * name with other columns), in one write transaction: processes opening an old file at once
   * must not both add a column.
   */
  private upgrade(): void {
    this.handle
      .transaction(() => {
        for (const [table, added] of [
          ['jobs', ADDED_COLUMNS],
          ['jobs_runtimes', RUNTIMES_ADDED_COLUMNS],
        ] as const) {
          const have = new Set(
            this.handle
              .prepare<[], { name: string }>(`PRAGMA table_info(${table})`)
              .all()
              .map((c) => c.name),
          );
          for (const [name, ddl] of Object.entries(added)) {
            if (!have.has(name)) this.handle.exec(`ALTER TABLE ${table} ADD COLUMN ${name} ${ddl}`);
          }
        }
        for (const [name, ix] of Object.entries(INDEXES)) {
          const columns = this.handle
            .prepare<[], { name: string }>(`PRAGMA index_info(${name})`)
            .all()
            .map((c) => c.name)
            .join(', ');
          if (columns !== '' && columns !== ix.columns) this.handle.exec(`DROP INDEX ${name}`);
          this.handle.exec(indexDdl(name));
        }
      })
      .immediate();
  }

  /** Prepared once per SQL text: preparing costs more than running a small claim. */
  stmt<P extends unknown[] = unknown[], R = unknown>(sql: string): Database.Statement<P, R> {
    let prepared = this.statements.get(sql);
    if (!prepared) {
      prepared = this.handle.prepare(sql);
      this.statements.set(sql, prepared);
    }
    return prepared as unknown as Database.Statement<P, R>;
  }

  close(): void {
    if (this.handle.open) this.handle.close();
  }
}
