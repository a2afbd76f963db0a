// What a statement costs, counted rather than timed: the bytes this process read from files
// (the kernel's rchar in /proc/self/io) while it ran. On a fresh connection (a cold page cache)
// after a checkpoint (every page in the database file, none in the WAL), that is the pages the
// statement visited, whatever the machine's load.
import { readFileSync } from 'node:fs';
import Database from 'better-sqlite3';

function rchar(): number {
  const m = /^rchar: (\d+)$/m.exec(readFileSync('/proc/self/io', 'utf8'));
  if (!m) throw new Error('/proc/self/io has no rchar line');
  return Number(m[1]);
}

/** What `run` returned, and the bytes read while it ran (reading /proc/self/io itself adds a few hundred). */
export async function bytesRead<T>(run: () => T | Promise<T>): Promise<{ value: T; bytes: number }> {
  const before = rchar();
  const value = await run();
  return { value, bytes: rchar() - before };
}

/** Moves the WAL's pages into the database file, so fresh connections read them from there. */
export function checkpoint(file: string): void {
  const db = new Database(file);
  try {
    db.pragma('wal_checkpoint(TRUNCATE)');
  } finally {
    db.close();
  }
}

/** A read-only connection with a cold page cache, its schema already read. */
export function freshConnection(file: string): Database.Database {
  const db = new Database(file, { readonly: true });
  db.prepare('SELECT 1 FROM sqlite_master LIMIT 1').get();
  return db;
}
