import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import mysql from 'mysql2/promise';
import { freePort } from './free-port.ts';
import { DIES_WITH_US } from './multihost-procs.ts';
import { sleep, waitFor } from './wait.ts';

// The rig's own store servers, in the root namespace, bound to the bridge address only: a
// mariadbd with a datadir of its own and a redis-server with a directory of its own, each on a
// free port. The shared test servers are never touched. Both are stopped by pid.

const run = promisify(execFile);

abstract class PrivateServer {
  protected child: ChildProcess | null = null;
  readonly dir: string;
  port = 0;

  constructor(
    readonly address: string,
    kind: string,
  ) {
    this.dir = mkdtempSync(join(tmpdir(), `jr-mh-${kind}-`));
  }

  get pid(): number | null {
    return this.child?.pid ?? null;
  }

  protected spawnServer(command: string, args: string[]): void {
    // mariadbd drops to the mysql user, which clears the death signal: it is stopped by pid.
    this.child = spawn(DIES_WITH_US[0]!, [...DIES_WITH_US.slice(1), command, ...args], { stdio: 'ignore' });
  }

  /** SIGKILL (a crash, as far as the server's clients can tell). */
  kill(): void {
    if (this.child?.pid && this.child.exitCode === null && this.child.signalCode === null) process.kill(this.child.pid, 'SIGKILL');
  }

  /** Stops the server (SIGTERM, SIGKILL after 20 s) and waits until it has exited. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    await exited;
    clearTimeout(timer);
    this.child = null;
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A throwaway MariaDB: root may connect from any address of the rig, without password. */
export class RigMariaDb extends PrivateServer {
  constructor(address: string) {
    super(address, 'mariadb');
  }

  static readonly BINARY = '/usr/sbin/mariadbd';

  url(database: string): string {
    return `mysql://root@${this.address}:${this.port}/${database}`;
  }

  async start(): Promise<void> {
    if (!existsSync(join(this.dir, 'mysql'))) await this.install();
    this.port ||= await freePort();
    this.spawnServer(RigMariaDb.BINARY, [
      '--no-defaults',
      '--user=mysql',
      `--datadir=${this.dir}`,
      `--port=${this.port}`,
      `--socket=${join(this.dir, 'sock')}`,
      `--bind-address=${this.address}`,
      '--skip-name-resolve',
      '--innodb-buffer-pool-size=64M',
      '--max-connections=500',
      `--log-error=${join(this.dir, 'error.log')}`,
      `--pid-file=${join(this.dir, 'mariadbd.pid')}`,
    ]);
    await waitFor(`the rig's mariadbd on ${this.address}:${this.port}`, () => this.socketPing(), 30_000, 100).catch((e) => {
      throw new Error(`${(e as Error).message}\n${this.errorLog()}`);
    });
    // root@localhost comes with the install; the hosts connect over the bridge.
    const c = await this.socketConnection();
    try {
      await c.query("CREATE USER IF NOT EXISTS 'root'@'%'");
      await c.query("GRANT ALL PRIVILEGES ON *.* TO 'root'@'%' WITH GRANT OPTION");
    } finally {
      await c.end();
    }
  }

  /** Creates an empty database and returns its URL (on the bridge address). */
  async createDatabase(name: string): Promise<string> {
    const c = await this.socketConnection();
    try {
      await c.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4`);
    } finally {
      await c.end();
    }
    return this.url(name);
  }

  errorLog(): string {
    const f = join(this.dir, 'error.log');
    return existsSync(f) ? readFileSync(f, 'utf8').slice(-2000) : '(no error log)';
  }

  private async install(): Promise<void> {
    chownSync(this.dir, ...userIds('mysql'));
    await run(
      'mariadb-install-db',
      ['--no-defaults', '--user=mysql', `--datadir=${this.dir}`, '--auth-root-authentication-method=normal', '--skip-test-db', '--skip-name-resolve'],
      { timeout: 60_000 },
    );
  }

  private socketConnection(): Promise<mysql.Connection> {
    return mysql.createConnection({ socketPath: join(this.dir, 'sock'), user: 'root', connectTimeout: 2_000 });
  }

  private async socketPing(): Promise<boolean> {
    if (this.child?.exitCode !== null) throw new Error(`mariadbd exited (${this.child?.exitCode})`);
    try {
      await (await this.socketConnection()).end();
      return true;
    } catch {
      return false;
    }
  }
}

export type RedisPersistence = 'none' | 'aof';

/** A throwaway redis-server; 'aof': appendonly, fsync every second; 'none': keeps nothing. */
export class RigRedis extends PrivateServer {
  constructor(
    address: string,
    readonly persistence: RedisPersistence,
  ) {
    super(address, 'redis');
  }

  url(prefix: string): string {
    return `redis://${this.address}:${this.port}/0?prefix=${encodeURIComponent(prefix)}`;
  }

  async start(): Promise<void> {
    this.port ||= await freePort();
    const persistence = this.persistence === 'aof' ? ['--appendonly', 'yes', '--appendfsync', 'everysec', '--save', ''] : ['--appendonly', 'no', '--save', ''];
    this.spawnServer('redis-server', [
      '--bind',
      this.address,
      '--port',
      String(this.port),
      '--protected-mode',
      'no',
      '--dir',
      this.dir,
      '--logfile',
      join(this.dir, 'redis.log'),
      '--daemonize',
      'no',
      ...persistence,
    ]);
    await waitFor(`the rig's redis-server on ${this.address}:${this.port}`, () => this.ping(), 15_000, 50).catch((e) => {
      const log = join(this.dir, 'redis.log');
      throw new Error(`${(e as Error).message}\n${existsSync(log) ? readFileSync(log, 'utf8').slice(-2000) : ''}`);
    });
  }

  /** A plain client, for looking at keys and settings. */
  client(): Redis {
    return new Redis({ host: this.address, port: this.port, lazyConnect: true, maxRetriesPerRequest: 1, connectTimeout: 2_000 });
  }

  private async ping(): Promise<boolean> {
    if (this.child?.exitCode !== null) throw new Error(`redis-server exited (${this.child?.exitCode})`);
    const c = this.client();
    c.on('error', () => undefined);
    try {
      await c.connect();
      return (await c.ping()) === 'PONG';
    } catch {
      await sleep(0);
      return false;
    } finally {
      c.disconnect();
    }
  }
}

/** uid and gid of a system user (mariadbd's datadir belongs to `mysql`). */
export function userIds(name: string): [number, number] {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${name}:`));
  if (!line) throw new Error(`no user '${name}' on this machine (it comes with the mariadb-server package)`);
  const [, , uid, gid] = line.split(':');
  return [Number(uid), Number(gid)];
}
