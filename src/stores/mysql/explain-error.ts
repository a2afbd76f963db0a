import { StoreUnavailableError } from '../../errors.js';
import { StoreTimeoutError } from '../deadline.js';
import { isLocalUrl } from '../url-in-messages.js';
import { isConnectionError } from './connection-pool.js';

// What a user can do about a server that cannot be reached, refuses the login, or has no such
// database: said in words, with what was tried (host, port, user; the password masked) and a
// command to check it from this host. Advice for users, not this repository's CI.

const ER_DBACCESS_DENIED = 1044;
const ER_ACCESS_DENIED = 1045;
const ER_BAD_DB = 1049;
const ER_ACCESS_DENIED_NO_PASSWORD = 1698;

/** Where a MySQL URL points, read from the store's masked display URL. */
export function mysqlTarget(displayUrl: string): { host: string; port: number; user: string; database: string } {
  const url = new URL(displayUrl);
  return {
    host: url.hostname || '127.0.0.1',
    port: url.port ? Number(url.port) : 3306,
    user: decodeURIComponent(url.username || 'root'),
    database: decodeURIComponent(url.pathname.replace(/^\//, '')),
  };
}

/**
 * A StoreUnavailableError for connection, login and missing-database errors; null for anything
 * else (the store explains table errors itself).
 */
export function explainMysqlConnectError(e: unknown, displayUrl: string): StoreUnavailableError | null {
  const err = e as { code?: string; errno?: number; message?: string } | null;
  const { host, port, user, database } = mysqlTarget(displayUrl);
  const at = `MySQL/MariaDB at ${host}:${port} (${displayUrl})`;
  switch (err?.errno) {
    case ER_ACCESS_DENIED:
    case ER_ACCESS_DENIED_NO_PASSWORD:
      return new StoreUnavailableError(
        `${at} refused the login of user '${user}' (${err.message}): the user name or password in the URL is wrong, ` +
          `or the user may not connect from this host. Check them with: mysql -h ${host} -P ${port} -u ${user} -p ${database}`,
      );
    case ER_DBACCESS_DENIED:
      return new StoreUnavailableError(`${at}: user '${user}' has no access to database '${database}' (${err.message}): grant it, or use another database`);
    case ER_BAD_DB:
      return new StoreUnavailableError(
        `The database '${database}' does not exist on ${at}: \`jobs-runtime migrate --create-database\` creates it ` +
          '(CREATE DATABASE, utf8mb4) and its jobs table, or create it yourself and run `jobs-runtime migrate`',
      );
  }
  if (e instanceof StoreTimeoutError) {
    return new StoreUnavailableError(`${at} did not answer in time (${e.message}): the network to it may be slow or cut, or the server overloaded`);
  }
  if (isConnectionError(e)) {
    return new StoreUnavailableError(
      `Cannot reach MySQL/MariaDB at ${displayUrl} (${err?.code ?? err?.message}), tried ${host}:${port}: is the server running` +
        `${isLocalUrl(displayUrl) ? '' : ', and reachable from this host'}? Check it with: mysqladmin -h ${host} -P ${port} ping`,
    );
  }
  return null;
}
