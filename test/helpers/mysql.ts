import mysql from 'mysql2/promise';

// Each suite gets a database of its own, created here and dropped by the returned cleanup.
// MariaDB not reachable is a failure with instructions, never a skip.

export const MYSQL_TEST_URL = process.env.JOBS_TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test';

export interface TestDatabase {
  url: string;
  name: string;
  query<T = unknown>(sql: string, params?: unknown[]): Promise<T>;
  drop(): Promise<void>;
}

export async function createMysqlDatabase(suite: string): Promise<TestDatabase> {
  const base = new URL(MYSQL_TEST_URL);
  let admin: mysql.Connection;
  try {
    admin = await mysql.createConnection({
      host: base.hostname,
      port: Number(base.port || 3306),
      user: decodeURIComponent(base.username || 'root'),
      password: decodeURIComponent(base.password),
      timezone: 'Z',
    });
  } catch (e) {
    throw new Error(
      `MariaDB is not reachable at ${MYSQL_TEST_URL} (${(e as Error).message}). Start it with ` +
        '`start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd -- --user=mysql`, ' +
        'or point JOBS_TEST_MYSQL_URL at a server.',
    );
  }
  const name = `jr_${suite.replace(/\W/g, '_')}_${process.pid}`.slice(0, 60);
  await admin.query(`DROP DATABASE IF EXISTS \`${name}\``);
  await admin.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4`);
  await admin.query(`USE \`${name}\``);
  await admin.query("SET time_zone = '+00:00'");
  const url = new URL(MYSQL_TEST_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    async query<T>(sql: string, params: unknown[] = []): Promise<T> {
      const [rows] = await admin.query(sql, params);
      return rows as T;
    },
    async drop() {
      await admin.query(`DROP DATABASE IF EXISTS \`${name}\``);
      await admin.end();
    },
  };
}
