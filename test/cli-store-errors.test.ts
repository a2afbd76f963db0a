// What a newcomer sees when the store URL is not right yet: a MySQL database that does not
// exist (and `migrate --create-database`, which creates it), a wrong password, a MySQL or Redis
// server that is not there. Each is one clear line (what was tried, the password masked, how to
// check or fix it), never a stack, never this repository's own CI start commands.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { killAll, runCli, type CliResult } from './helpers/cli.ts';
import { freePort } from './helpers/free-port.ts';
import { createMysqlDatabase, MYSQL_TEST_URL, type TestDatabase } from './helpers/mysql.ts';

after(() => killAll());

const cli = (args: string[]) => runCli(args, { timeoutMs: 30_000 });
const urlFor = (database: string, password?: string) => {
  const url = new URL(MYSQL_TEST_URL);
  url.pathname = `/${database}`;
  if (password !== undefined) url.password = password;
  return url.toString();
};

/** Exit 1 with one message line on stderr: no stack, nothing on stdout. */
function assertOneLineError(r: CliResult, what: string): string {
  assert.equal(r.code, 1, `${what} exits 1: ${r.stderr}`);
  assert.doesNotMatch(r.stderr, /\n\s+at /, `${what}: no stack trace:\n${r.stderr}`);
  assert.doesNotMatch(r.stderr, /start-stop-daemon|redis-server|ci\.log|\/var\/log/, `${what}: no CI start command or log path`);
  return r.stderr;
}

describe('cli: MySQL database missing, or a wrong password', () => {
  let admin: TestDatabase;
  const host = new URL(MYSQL_TEST_URL);
  const missing = `jr_created_${process.pid}`;
  const databaseExists = async (name: string) =>
    (await admin.query<unknown[]>('SELECT SCHEMA_NAME FROM INFORMATION_SCHEMA.SCHEMATA WHERE SCHEMA_NAME = ?', [name])).length > 0;

  before(async () => {
    admin = await createMysqlDatabase('store_errors');
  });
  after(async () => {
    await admin?.query(`DROP DATABASE IF EXISTS \`${missing}\``);
    await admin?.drop();
  });

  test('migrate against a database that does not exist says so and names --create-database', { timeout: 45_000 }, async () => {
    const message = assertOneLineError(await cli(['migrate', '--database-url', urlFor(missing)]), 'migrate');
    assert.ok(message.includes(`The database '${missing}' does not exist`), message);
    assert.ok(message.includes(`${host.hostname}:${host.port || 3306}`), `it names host and port: ${message}`);
    assert.match(message, /jobs-runtime migrate --create-database/);
    assert.equal(await databaseExists(missing), false, 'nothing is created without the flag');
  });

  test('migrate --create-database creates the database and its table; a second run finds it', { timeout: 45_000 }, async () => {
    const first = await cli(['migrate', '--create-database', '--database-url', urlFor(missing)]);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /^✔ Created the database of mysql:\/\/\S+\n/);
    assert.match(first.stdout, /CREATE TABLE jobs/);
    assert.equal(await databaseExists(missing), true);
    const [charset] = await admin.query<Array<{ c: string }>>('SELECT DEFAULT_CHARACTER_SET_NAME AS c FROM INFORMATION_SCHEMA.SCHEMATA WHERE SCHEMA_NAME = ?', [
      missing,
    ]);
    assert.equal(charset!.c, 'utf8mb4');
    const again = await cli(['migrate', '--create-database', '--database-url', urlFor(missing)]);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /exists already\n.*the jobs table is up to date\n$/s);
  });

  test('migrate --create-database refuses a name it cannot quote safely, and creates nothing', { timeout: 45_000 }, async () => {
    const hostile = 'x`; DROP DATABASE mysql; --';
    const message = assertOneLineError(await cli(['migrate', '--create-database', '--database-url', urlFor(encodeURIComponent(hostile))]), 'a hostile name');
    assert.ok(message.includes(`Cannot create the database '${hostile}'`), message);
    assert.match(message, /letters, digits, '_' and '\$'/);
    assert.equal(await databaseExists(hostile), false);
  });

  test('a wrong password is named as such, with the user and host, the password masked', { timeout: 45_000 }, async () => {
    const password = 'Wr0ng-pass-word';
    const message = assertOneLineError(await cli(['migrate', '--database-url', urlFor(admin.name, password)]), 'a wrong password');
    const user = decodeURIComponent(host.username || 'root');
    assert.ok(message.includes(`refused the login of user '${user}'`), message);
    assert.ok(message.includes(`${host.hostname}:${host.port || 3306}`), message);
    assert.match(message, /password in the URL is wrong/);
    assert.ok(!message.includes(password), `the password is masked: ${message}`);
    assert.ok(message.includes(':***@'), message);
  });
});

describe('cli: a store that cannot be reached', () => {
  test('MySQL: names host:port and the mysqladmin ping to check it, with the URL port', { timeout: 45_000 }, async () => {
    const port = await freePort();
    const message = assertOneLineError(await cli(['status', '--database-url', `mysql://app:secret@127.0.0.1:${port}/app`]), 'MySQL down');
    assert.ok(message.includes(`Cannot reach MySQL/MariaDB at mysql://app:***@127.0.0.1:${port}/app (ECONNREFUSED), tried 127.0.0.1:${port}`), message);
    assert.ok(message.includes(`mysqladmin -h 127.0.0.1 -P ${port} ping`), message);
    assert.ok(!message.includes('secret'), message);
  });

  test("Redis: names host:port and the redis-cli ping to check it, with the URL's port, not 6379", { timeout: 45_000 }, async () => {
    const port = await freePort();
    const message = assertOneLineError(await cli(['status', '--database-url', `redis://u:secret@127.0.0.1:${port}/0`]), 'Redis down');
    assert.ok(message.includes(`Cannot reach Redis at redis://u:***@127.0.0.1:${port}/0 (ECONNREFUSED), tried 127.0.0.1:${port}`), message);
    assert.ok(message.includes(`redis-cli -h 127.0.0.1 -p ${port} ping`), message);
    assert.ok(!message.includes('6379') && !message.includes('secret'), message);
  });
});
