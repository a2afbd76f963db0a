import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openStore } from '../../src/stores/open-store.ts';
import type { JobStore } from '../../src/stores/store.ts';
import { BIN, runCli } from './cli.ts';
import { JOBS_DIR } from './e2e.ts';
import { Network } from './multihost-net.ts';
import { DIES_WITH_US, HostProcesses, signal, type HostProcess } from './multihost-procs.ts';
import { RigMariaDb, RigRedis, type RedisPersistence } from './multihost-servers.ts';

// Several hosts on one machine, for the cross-host cases of issue 12: each host a network and
// UTS namespace (its own address and host name), a private mariadbd and redis-server on the
// bridge, runtimes started inside the hosts, partitions (a host's link cut silently), stalls
// (SIGSTOP of every process of a host), host deaths (SIGKILL of all of them) and a slow link (a
// delay proxy in the root namespace). Needs root, `ip`, `unshare` and the servers: missing any
// is an error naming what to install, never a skip. close() removes everything it made.

const PROXY = fileURLToPath(new URL('./delay-proxy.ts', import.meta.url));

export interface RigOptions {
  hosts: string[];
  mysql?: boolean;
  /** Start a redis-server: 'aof' persists (appendonly, fsync every second), 'none' keeps nothing. */
  redis?: RedisPersistence;
}

export interface RigStore {
  kind: 'mysql' | 'redis';
  /** The store on the bridge address, as the hosts reach it. */
  url: string;
  /** The test's own connection (from the root namespace: never partitioned). */
  store: JobStore;
}

/** Throws, naming what is missing, when this machine cannot run the rig (`path`: where to look, default PATH). */
export function requireRig(o: { mysql?: boolean; redis?: boolean; path?: string } = {}): void {
  if (process.getuid?.() !== 0) {
    throw new Error('the multi-host rig needs root (network namespaces, veth links, a bridge): run the test as root, as CI does');
  }
  const tools: Array<[string, string]> = [
    ['ip', 'iproute2'],
    ['unshare', 'util-linux'],
    ['setpriv', 'util-linux'],
  ];
  if (o.mysql) tools.push([RigMariaDb.BINARY, 'mariadb-server'], ['mariadb-install-db', 'mariadb-server']);
  if (o.redis) tools.push(['redis-server', 'redis-server']);
  const env = { ...process.env, PATH: o.path ?? process.env.PATH };
  const missing = tools.filter(([t]) => spawnSync('/bin/sh', ['-c', `command -v ${t}`], { env }).status !== 0);
  if (missing.length > 0) {
    throw new Error(
      `the multi-host rig needs ${missing.map(([t]) => t).join(', ')}: apt-get install ${[...new Set(missing.map(([, p]) => p))].join(' ')} (.ci/run does)`,
    );
  }
}

export class Rig {
  readonly net = new Network();
  readonly procs = new HostProcesses();
  readonly dir = mkdtempSync(join(tmpdir(), 'jr-mh-'));
  mariadb: RigMariaDb | null = null;
  redis: RigRedis | null = null;
  private readonly stores: RigStore[] = [];
  private readonly proxies = new Set<ChildProcess>();
  private closed = false;

  private constructor() {}

  static async create(o: RigOptions): Promise<Rig> {
    requireRig({ mysql: o.mysql, redis: o.redis !== undefined });
    const rig = new Rig();
    const onExit = () => rig.closeSync();
    process.once('exit', onExit);
    try {
      rig.net.create(o.hosts);
      for (const h of o.hosts) mkdirSync(join(rig.dir, h));
      if (o.mysql) {
        rig.mariadb = new RigMariaDb(rig.net.gateway);
        await rig.mariadb.start();
      }
      if (o.redis) {
        rig.redis = new RigRedis(rig.net.gateway, o.redis);
        await rig.redis.start();
      }
    } catch (e) {
      await rig.close().catch(() => undefined);
      throw e;
    }
    return rig;
  }

  /** A fresh store of this kind on the rig's server, migrated, with a connection for the test. */
  async openStore(kind: 'mysql' | 'redis', name: string): Promise<RigStore> {
    let url: string;
    if (kind === 'mysql') {
      if (!this.mariadb) throw new Error('this rig has no mariadbd (createRig({ mysql: true }))');
      url = await this.mariadb.createDatabase(name);
      const m = await runCli(['migrate', '--database-url', url], { timeoutMs: 30_000 });
      if (m.code !== 0) throw new Error(`migrate on the rig's mariadbd failed: ${m.stderr}`);
    } else {
      if (!this.redis) throw new Error("this rig has no redis-server (createRig({ redis: 'aof' }))");
      url = this.redis.url(`${name}:`);
    }
    const store = await openStore(url, { maxConnections: 4 });
    const s = { kind, url, store };
    this.stores.push(s);
    return s;
  }

  /** Runs a command on a host (its namespace, its host name, its own wake-up directory). */
  spawnOn(host: string, argv: string[], o: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): HostProcess {
    const env = { ...process.env, NO_COLOR: '1', JOBS_WAKE_DIR: join(this.dir, host, 'wake'), ...o.env };
    return this.procs.spawn(host, [...this.net.execPrefix(host), ...argv], env, o.timeoutMs ?? 180_000);
  }

  /** `jobs-runtime start` on a host, with the test fixture jobs. */
  startRuntime(host: string, url: string, args: string[], o: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): HostProcess {
    return this.spawnOn(host, [process.execPath, BIN, 'start', '--database-url', url, '--jobs-dir', JOBS_DIR, ...args], o);
  }

  partition(host: string): void {
    this.net.partition(host);
  }

  heal(host: string): void {
    this.net.heal(host);
  }

  /** SIGSTOP to every process of the host: a host that freezes (VM paused, swap storm). */
  stall(host: string): number {
    return this.procs.signalHost(host, 'SIGSTOP');
  }

  resume(host: string): number {
    return this.procs.signalHost(host, 'SIGCONT');
  }

  /** SIGKILL to every process of the host at once: the host died. */
  killHost(host: string): number {
    return this.procs.signalHost(host, 'SIGKILL');
  }

  /** Starts a delay proxy in the root namespace in front of `port` on the bridge; returns its port. */
  async delayProxy(port: number, oneWayDelayMs: number): Promise<number> {
    const child = spawn(
      DIES_WITH_US[0]!,
      [...DIES_WITH_US.slice(1), process.execPath, '--import', 'tsx', PROXY, this.net.gateway, this.net.gateway, String(port), String(oneWayDelayMs)],
      {
        stdio: ['pipe', 'pipe', 'pipe'],
      },
    );
    this.proxies.add(child);
    let out = '';
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    return new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the delay proxy did not start within 15 s: ${out}`)), 15_000);
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /listening (\d+)/.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(Number(m[1]));
        }
      });
      child.on('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`the delay proxy exited (${code}): ${out}`));
      });
    });
  }

  /** Kills every process, stops the servers, removes the namespaces, links and directories. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.procs.killAll();
    for (const p of this.proxies) signal(p.pid!, 'SIGKILL');
    for (const s of this.stores) await s.store.close().catch(() => undefined);
    await this.mariadb?.stop();
    await this.redis?.stop();
    this.net.destroy();
    this.mariadb?.remove();
    this.redis?.remove();
    rmSync(this.dir, { recursive: true, force: true });
    const left = Network.leftoversOf(this.net.prefix);
    if (left.length > 0) throw new Error(`the multi-host rig left ${left.join(', ')} behind`);
  }

  /** The same, synchronously, when the test process exits without having called close(). */
  private closeSync(): void {
    if (this.closed) return;
    this.closed = true;
    for (const p of this.proxies) signal(p.pid!, 'SIGKILL');
    for (const pid of [this.mariadb?.pid, this.redis?.pid]) if (pid) signal(pid, 'SIGKILL');
    this.net.destroy();
    this.mariadb?.remove();
    this.redis?.remove();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** The URL with its port replaced (to go through a delay proxy). */
export function withPort(url: string, port: number): string {
  const u = new URL(url);
  u.port = String(port);
  return u.toString();
}

export const createRig = (o: RigOptions) => Rig.create(o);
export { logLines, okIds, type HostProcess, type LogLine } from './multihost-procs.ts';
