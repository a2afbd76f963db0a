import mysql from 'mysql2/promise';
import { InvalidInputError } from '../../errors.js';
import { maskUrlPassword, URL_ENCODING_HINT } from '../url-in-messages.js';
import { explainMysqlConnectError } from './explain-error.js';

// `migrate --create-database`: creates the URL's database when it does not exist, on a
// connection that names no database. An identifier cannot be a statement parameter, so the
// name is checked against a strict pattern before it is quoted into the statement.

const DATABASE_NAME = /^[A-Za-z0-9_$]{1,64}$/;

/** Creates the database of a mysql:// URL unless it exists; true when it was created. */
export async function createMysqlDatabase(urlText: string): Promise<boolean> {
  let url: URL;
  try {
    url = new URL(urlText.replace(/^mariadb:/i, 'mysql:'));
  } catch {
    throw new InvalidInputError(`Invalid MySQL URL '${maskUrlPassword(urlText)}': use mysql://user:password@host:3306/database (${URL_ENCODING_HINT})`);
  }
  const displayUrl = maskUrlPassword(url.toString());
  const name = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (!DATABASE_NAME.test(name)) {
    throw new InvalidInputError(
      `Cannot create the database '${name}' of ${displayUrl}: --create-database takes names of 1 to 64 letters, digits, '_' and '$' (create any other yourself)`,
    );
  }
  let conn: mysql.Connection;
  try {
    conn = await mysql.createConnection({
      host: url.hostname || '127.0.0.1',
      port: url.port ? Number(url.port) : 3306,
      user: decodeURIComponent(url.username || 'root'),
      password: decodeURIComponent(url.password),
      connectTimeout: 10_000,
    });
  } catch (e) {
    throw explainMysqlConnectError(e, displayUrl) ?? e;
  }
  try {
    const [rows] = await conn.query<mysql.RowDataPacket[]>('SELECT SCHEMA_NAME FROM INFORMATION_SCHEMA.SCHEMATA WHERE SCHEMA_NAME = ?', [name]);
    if (rows.length > 0) return false;
    await conn.query(`CREATE DATABASE IF NOT EXISTS \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
    return true;
  } catch (e) {
    const err = e as { errno?: number; message?: string };
    // 1044: the user may log in but not create databases.
    if (err.errno === 1044)
      throw new InvalidInputError(`Cannot create the database '${name}' at ${displayUrl}: ${err.message}; ask an administrator to create it`);
    throw e;
  } finally {
    await conn.end().catch(() => conn.destroy());
  }
}
