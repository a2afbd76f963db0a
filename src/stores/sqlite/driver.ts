// better-sqlite3, loaded when an SQLite store is first opened. It is an optional peer dependency:
// it compiles from source wherever no prebuilt binary can be fetched, so an app on MySQL or Redis
// leaves it out, and an app on the default SQLite store installs it (`npm install better-sqlite3`).
// Without it, opening an SQLite store fails with a message saying so instead of a bare
// "Cannot find package". The value and its types are exported under the driver's own name, so
// the store reads as if it imported better-sqlite3 directly.
import type BetterSqlite3 from 'better-sqlite3';
import { StoreUnavailableError } from '../../errors.js';

const INSTALL_HINT =
  'run `npm install better-sqlite3` in your application (jobs-runtime does not install it, so that apps on MySQL or Redis need not compile it), ' +
  'or set JOBS_DATABASE_URL to a mysql:// or redis:// store';

async function loadDriver(): Promise<typeof BetterSqlite3> {
  let driver: typeof BetterSqlite3;
  try {
    driver = (await import('better-sqlite3')).default;
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const missing = (err.code === 'ERR_MODULE_NOT_FOUND' || err.code === 'MODULE_NOT_FOUND') && /'better-sqlite3'/.test(err.message);
    if (missing) throw new StoreUnavailableError(`The SQLite store needs the package better-sqlite3, which is not installed: ${INSTALL_HINT}`);
    throw new StoreUnavailableError(`The package better-sqlite3 is installed but cannot be loaded (${err.message}): run \`npm rebuild better-sqlite3\``);
  }
  try {
    // Its native part loads on the first open: do that here, so a missing or mismatched build
    // (another Node version, a build that failed) is reported as such, not as an unopenable file.
    new driver(':memory:').close();
  } catch (e) {
    throw new StoreUnavailableError(
      `The package better-sqlite3 is installed but its native part cannot be loaded (${(e as Error).message}): run \`npm rebuild better-sqlite3\``,
    );
  }
  return driver;
}

const Database: typeof BetterSqlite3 = await loadDriver();
// Types only: merges with the value above, as `import Database from 'better-sqlite3'` does.
declare namespace Database {
  type Database = BetterSqlite3.Database;
  type Statement<P extends unknown[] | object = unknown[], R = unknown> = BetterSqlite3.Statement<P, R>;
}
export default Database;
