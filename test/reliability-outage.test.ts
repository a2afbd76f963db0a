// MariaDB goes away during a run and comes back. A separate mariadbd (own datadir, own port)
// is created, started, stopped with SIGTERM and started again by this suite; the shared server
// is never touched. The runtime must log one line when the store goes and one when it is back,
// keep running, keep the results of jobs finished meanwhile and write them later, and run
// every job exactly once.
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { chownSync, mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import mysql from 'mysql2/promise';
import { openStore } from '../src/stores/open-store.ts';
import type { JobStore } from '../src/stores/store.ts';
import { killAll, runCli, startCli } from './helpers/cli.ts';
import { freePort } from './helpers/free-port.ts';
import { JOBS_DIR } from './helpers/e2e.ts';
import { countBy, exitWithin, readTrace, waitForBanner } from './helpers/reliability.ts';
import { sleep, waitFor } from './helpers/wait.ts';
import { jobRow } from './helpers/job-rows.ts';

const run = promisify(execFile);
const MARIADBD = '/usr/sbin/mariadbd';
const JOBS = 300;

after(() => killAll());

/** A throwaway MariaDB server: datadir in a temp dir, root@127.0.0.1 without password. */
class PrivateMariaDb {
  private child: ChildProcess | null = null;
  readonly dir = mkdtempSync(join(tmpdir(), 'jr-outage-mariadb-'));
  constructor(readonly port: number) {}

  get pid(): number | null {
    return this.child?.pid ?? null;
  }

  async install(): Promise<void> {
    chownSync(this.dir, ...userIds('mysql'));
    await run(
      'mariadb-install-db',
      ['--no-defaults', '--user=mysql', `--datadir=${this.dir}`, '--auth-root-authentication-method=normal', '--skip-test-db', '--skip-name-resolve'],
      { timeout: 60_000 },
    );
  }

  async start(): Promise<void> {
    this.child = spawn(
      MARIADBD,
      [
        '--no-defaults',
        '--user=mysql',
        `--datadir=${this.dir}`,
        `--port=${this.port}`,
        `--socket=${join(this.dir, 'sock')}`,
        '--bind-address=127.0.0.1',
        '--skip-name-resolve',
        '--innodb-buffer-pool-size=32M',
        `--log-error=${join(this.dir, 'error.log')}`,
        `--pid-file=${join(this.dir, 'mariadbd.pid')}`,
      ],
      { stdio: 'ignore' },
    );
    await waitFor(`the private mariadbd on port ${this.port} to accept connections`, () => this.ping(), 30_000, 100).catch((e) => {
      throw new Error(`${(e as Error).message}\n${this.errorLog()}`);
    });
  }

  /** SIGTERM, then waits for the process to exit (InnoDB shuts down cleanly). */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await Promise.race([
      exited,
      sleep(30_000).then(() => {
        throw new Error(`mariadbd ${child.pid} did not exit after SIGTERM\n${this.errorLog()}`);
      }),
    ]);
    this.child = null;
  }

  /** SIGKILL, then waits (bounded) for the process to be gone, so that its files can be removed. */
  async kill(): Promise<void> {
    const child = this.child;
    this.child = null;
    if (!child?.pid || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    try {
      process.kill(child.pid, 'SIGKILL');
    } catch {
      return; // gone
    }
    await Promise.race([
      exited,
      sleep(10_000).then(() => {
        throw new Error(`mariadbd ${child.pid} did not exit after SIGKILL`);
      }),
    ]);
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }

  async ping(): Promise<boolean> {
    try {
      const c = await mysql.createConnection({ host: '127.0.0.1', port: this.port, user: 'root', connectTimeout: 1_000 });
      await c.end();
      return true;
    } catch {
      return false;
    }
  }

  errorLog(): string {
    const f = join(this.dir, 'error.log');
    return existsSync(f) ? readFileSync(f, 'utf8').slice(-2000) : '(no error log)';
  }
}

function userIds(name: string): [number, number] {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${name}:`));
  if (!line) throw new Error(`no user '${name}' on this machine (it comes with the mariadb-server package)`);
  const [, , uid, gid] = line.split(':');
  return [Number(uid), Number(gid)];
}

/**
 * A TCP proxy in front of MariaDB that loses the reply to one committed claim: when a client
 * sends the claim's UPDATE … status = 'processing' and its COMMIT, the packets reach the server,
 * but whatever the server answers is swallowed and the connection is cut 300 ms later. The
 * server has committed the claim; the client sees only a lost connection. This is what an
 * outage (server shutdown, network cut) does to a claim that was committing at that moment.
 */
async function claimReplyLosingProxy(target: number): Promise<{ port: number; dropped: Promise<void>; close(): void }> {
  let fired = false;
  let onDropped!: () => void;
  const dropped = new Promise<void>((r) => (onDropped = r));
  const sockets = new Set<import('node:net').Socket>();
  const server = createServer((client) => {
    const upstream = connect(target, '127.0.0.1');
    sockets.add(client).add(upstream);
    let armed = false;
    let swallowing = false;
    const cut = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('data', (buf) => {
      const sql = buf.subarray(5).toString('latin1');
      if (!fired && buf[4] === 0x03) {
        if (/^\s*UPDATE\b[\s\S]*\bstatus\s*=\s*'processing'/i.test(sql)) armed = true;
        if (armed && /(^|;)\s*COMMIT\s*;?\s*$/i.test(sql)) {
          fired = true;
          swallowing = true;
          setTimeout(() => {
            cut();
            onDropped();
          }, 300);
        }
      }
      upstream.write(buf);
    });
    upstream.on('data', (buf) => {
      if (!swallowing) client.write(buf);
    });
    client.on('error', cut).on('close', cut);
    upstream.on('error', cut).on('close', cut);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as { port: number }).port,
    dropped,
    close() {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}

describe('store outage: the MariaDB server stops and starts again during a run', () => {
  let db: PrivateMariaDb;
  let url: string;
  let store: JobStore;
  let dir: string;

  before(async () => {
    db = new PrivateMariaDb(await freePort());
    dir = mkdtempSync(join(tmpdir(), 'jr-outage-'));
    await db.install();
    await db.start();
    const admin = await mysql.createConnection({ host: '127.0.0.1', port: db.port, user: 'root' });
    await admin.query('CREATE DATABASE jr_outage CHARACTER SET utf8mb4');
    await admin.end();
    url = `mysql://root@127.0.0.1:${db.port}/jr_outage`;
    const m = await runCli(['migrate', '--database-url', url], { cwd: dir, timeoutMs: 20_000 });
    assert.equal(m.code, 0, `migrate failed: ${m.stderr}`);
    store = await openStore(url, { maxConnections: 2 });
  });

  after(async () => {
    killAll();
    await store?.close().catch(() => undefined);
    await db?.kill();
    db?.remove();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('one line when it goes, one when it is back; the runtime keeps running; every job runs exactly once', { timeout: 180_000 }, async () => {
    const trace = join(dir, 'runs.txt');
    const ids = await store.producer.enqueue({ jobs: Array.from({ length: JOBS }, () => jobRow({ handler: 'Traced', payload: { file: trace, ms: 40 } })) });
    const rt = startCli(['start', '--procs', '2', '--jobs-dir', JOBS_DIR, '--database-url', url], { cwd: dir, timeoutMs: 150_000 });
    await waitForBanner(rt);
    const runs = () => readTrace(trace).filter((l) => l.kind === 'run');
    await waitFor('some jobs to complete before the outage', () => runs().length >= 40, 30_000);

    const downAt = Date.now();
    await db.stop();
    const doneAtStop = runs().length;
    await sleep(5_000); // the outage itself: MariaDB stays down this long (the scenario, not a clock)
    assert.equal(rt.child.exitCode, null, 'the runtime is still running during the outage');
    assert.ok(doneAtStop < JOBS, `the outage came before the end of the run (${doneAtStop} of ${JOBS} done)`);
    await db.start();
    const upAt = Date.now();

    await waitFor(
      'every job to be recorded and its row deleted',
      async () => runs().length >= JOBS && (await store.admin.counts({})).every((q) => q.waiting + q.delayed + q.processing + q.failed === 0),
      60_000,
      100,
    ).catch(async (e) => {
      const recorded = new Set(runs().map((l) => l.id));
      const c = await mysql.createConnection({ host: '127.0.0.1', port: db.port, user: 'root', database: 'jr_outage', timezone: 'Z' });
      const [left] = await c.query<mysql.RowDataPacket[]>('SELECT id, status, attempts, owner, claimed_at, interruptions FROM jobs ORDER BY id LIMIT 20');
      const [regs] = await c.query<mysql.RowDataPacket[]>('SELECT id, heartbeat_at FROM jobs_runtimes');
      await c.end();
      throw new Error(
        `${(e as Error).message}: ${recorded.size} runs recorded; not run: ${ids.filter((id) => !recorded.has(id)).join(', ')}\n` +
          `rows left: ${JSON.stringify(left)}\nregistry: ${JSON.stringify(regs)}\n` +
          `store lines: ${(rt.stdout() + rt.stderr())
            .split('\n')
            .filter((l) => /Store|Recovered|stopped/.test(l))
            .join('\n')}`,
      );
    });
    const backMs = Date.now() - upAt;
    assert.equal(rt.child.exitCode, null, 'the runtime kept running');
    process.kill(rt.pid, 'SIGTERM');
    const r = await exitWithin(rt, 15_000);
    assert.equal(r.code, 0, r.stderr);

    const out = r.stdout + r.stderr;
    const unavailable = out.split('\n').filter((l) => l.includes('Store unavailable'));
    const back = out.split('\n').filter((l) => l.includes('Store is back'));
    assert.equal(unavailable.length, 1, `exactly one 'Store unavailable' line:\n${unavailable.join('\n')}`);
    assert.equal(back.length, 1, `exactly one 'Store is back' line:\n${back.join('\n')}`);
    assert.match(unavailable[0]!, /ERROR Store unavailable \(mysql:\/\/root@127\.0\.0\.1:\d+\/jr_outage\): .* retrying with backoff/);

    const all = runs();
    const perJob = countBy(all, (l) => l.id);
    assert.deepEqual(
      [...perJob].filter(([, n]) => n > 1),
      [],
      'no job ran twice',
    );
    assert.deepEqual(
      ids.filter((id) => !perJob.has(id)),
      [],
      'no job is missing',
    );
    assert.equal(all.length, JOBS);
    const check = await mysql.createConnection({ host: '127.0.0.1', port: db.port, user: 'root', database: 'jr_outage' });
    const [[left]] = await check.query<mysql.RowDataPacket[]>('SELECT COUNT(*) AS n FROM jobs');
    await check.end();
    assert.equal(Number(left!.n), 0, 'no row left');
    const backLoggedMs = Date.parse(back[0]!.slice(0, 24)) - upAt;
    console.log(
      `  outage: server down ${((upAt - downAt) / 1000).toFixed(1)} s with ${doneAtStop}/${JOBS} jobs done; ` +
        `'Store is back' logged ${backLoggedMs} ms after the server accepted connections again; all done ${backMs} ms after it; 0 duplicates, 0 missing\n` +
        `  ${unavailable[0]}\n  ${back[0]}`,
    );
  });
  test('a claim committed by the server whose reply is lost: its jobs still run, once each', { timeout: 90_000 }, async () => {
    const admin = await mysql.createConnection({ host: '127.0.0.1', port: db.port, user: 'root' });
    await admin.query('CREATE DATABASE jr_lost_reply CHARACTER SET utf8mb4');
    await admin.end();
    const direct = `mysql://root@127.0.0.1:${db.port}/jr_lost_reply`;
    const m = await runCli(['migrate', '--database-url', direct], { cwd: dir, timeoutMs: 20_000 });
    assert.equal(m.code, 0, m.stderr);
    const proxy = await claimReplyLosingProxy(db.port);
    try {
      const own = await openStore(direct, { maxConnections: 1 });
      const trace = join(dir, 'lost-reply.txt');
      const ids = await own.producer.enqueue({ jobs: Array.from({ length: 40 }, () => jobRow({ handler: 'Traced', payload: { file: trace, ms: 20 } })) });
      const viaProxy = `mysql://root@127.0.0.1:${proxy.port}/jr_lost_reply`;
      const rt = startCli(['start', '--procs', '2', '--heartbeat', '0.5', '--dead-after', '3', '--jobs-dir', JOBS_DIR, '--database-url', viaProxy], {
        cwd: dir,
        timeoutMs: 80_000,
      });
      const rtId = await waitForBanner(rt);
      await Promise.race([
        proxy.dropped,
        sleep(20_000).then(() => {
          throw new Error('the proxy never saw a claim commit');
        }),
      ]);
      const runs = () => readTrace(trace).filter((l) => l.kind === 'run');
      try {
        await waitFor('every job to run and its row to go', async () => runs().length >= ids.length && (await own.admin.counts({})).length === 0, 30_000, 100);
      } catch (e) {
        const stuck = [];
        for (const id of ids) {
          const row = await own.admin.getJob({ id });
          if (row && row.status === 'processing') stuck.push(`${id} (owner ${row.owner === rtId ? 'the live runtime' : row.owner}, attempts ${row.attempts})`);
        }
        throw new Error(
          `${(e as Error).message}: ${runs().length} of ${ids.length} ran; still 'processing' 30 s after the lost reply, ` +
            `claimed by a runtime that is alive and heartbeating: ${stuck.join(', ')}\n` +
            `runtime log: ${(rt.stdout() + rt.stderr())
              .split('\n')
              .filter((l) => /Store|Recovered/.test(l))
              .join('\n')}`,
        );
      } finally {
        process.kill(rt.pid, 'SIGTERM');
        await exitWithin(rt, 15_000).catch(() => undefined);
        await own.close();
      }
      const perJob = countBy(runs(), (l) => l.id);
      assert.deepEqual(
        [...perJob].filter(([, n]) => n > 1),
        [],
        'no job ran twice',
      );
    } finally {
      proxy.close();
    }
  });
});
