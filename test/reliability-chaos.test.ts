// Chaos: runtimes are killed with SIGKILL while they run jobs, and new ones are started, until
// every job is done. Every run is recorded on the side (a table on MySQL, an O_APPEND file on
// SQLite) with the runtime that ran it, so afterwards we can say exactly: no job is missing, and
// every job that ran more than once was in flight on a runtime that was killed.
//
// Counting in-flight work exactly: a victim is first frozen with SIGSTOP, its claimed rows are
// read (it can neither finish nor claim anything while stopped, and no peer recovers it: its pid
// exists and its heartbeat is fresh), then it is killed with SIGKILL. For the jobs and the store
// this is a SIGKILL at the moment of the SIGSTOP.
//
// Bounded to about a minute per store; JOBS_SOAK=1 runs a longer soak (50,000 jobs).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import mysql from 'mysql2/promise';
import { Redis } from 'ioredis';
import { killAll, startCli, type RunningCli } from './helpers/cli.ts';
import { createApp, type E2eApp, type StoreKind } from './helpers/e2e.ts';
import { exitWithin, readTrace, waitForBanner } from './helpers/reliability.ts';
import { sleep, waitFor } from './helpers/wait.ts';
import { jobRow } from './helpers/job-rows.ts';

after(() => killAll());

const SOAK = process.env.JOBS_SOAK === '1';
const JOBS = SOAK ? 50_000 : 5_000;
/** Hard deadline for the whole run (all jobs done). */
const DEADLINE_MS = SOAK ? 20 * 60_000 : 120_000;
const KILL_EVERY_MS = Number(process.env.CHAOS_KILL_EVERY_MS ?? 2_000);
const RUNTIMES = 3;
// Jobs from a directory of plain JavaScript: threads start without the TypeScript loader, as in
// production, so a runtime started every two seconds is up sooner.
const JS_JOBS_DIR = fileURLToPath(new URL('./fixtures/js-jobs', import.meta.url));
const RUNTIME_ARGS = ['--procs', '2', '--heartbeat', '0.5', '--dead-after', '3', '--quiet'];

interface Runtime {
  cli: RunningCli;
  id: string | null;
  killed: boolean;
}

interface Kill {
  id: string;
  inFlight: number[];
  /** ms from SIGKILL until no row is claimed by it any more (null: it held none). */
  recoveredMs: number | null;
}

/** The few reads the chaos loop needs, on the store's own database. */
interface Sql {
  claimedBy(owner: string): Promise<number[]>;
  rowsLeft(): Promise<number>;
  /** "status:count …" of the rows left, for progress and failure messages. */
  statuses(): Promise<string>;
  /** Recorded runs: [job id, runtime id]. */
  runs(): Promise<Array<[number, string]>>;
  close(): Promise<void>;
}

async function openSql(app: E2eApp, trace: string): Promise<Sql> {
  if (app.kind === 'mysql') {
    const conn = await mysql.createConnection(app.url);
    // MEMORY engine: a side record needs no fsync per row, and the jobs' own commits stay the
    // only durable writes (the server is not restarted here).
    await conn.query(
      'CREATE TABLE runs (n BIGINT AUTO_INCREMENT PRIMARY KEY, job_id BIGINT NOT NULL, attempt INT NOT NULL, runtime_id VARCHAR(100) NOT NULL, at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3)) ENGINE=MEMORY',
    );
    return {
      async claimedBy(owner) {
        const [rows] = await conn.query<mysql.RowDataPacket[]>("SELECT id FROM jobs WHERE owner = ? AND status = 'processing'", [owner]);
        return rows.map((r) => Number(r.id));
      },
      async rowsLeft() {
        const [rows] = await conn.query<mysql.RowDataPacket[]>('SELECT COUNT(*) AS n FROM jobs');
        return Number(rows[0]!.n);
      },
      async statuses() {
        const [rows] = await conn.query<mysql.RowDataPacket[]>('SELECT status, COUNT(*) AS n FROM jobs GROUP BY status');
        return rows.map((r) => `${r.status}:${r.n}`).join(' ');
      },
      async runs() {
        const [rows] = await conn.query<mysql.RowDataPacket[]>('SELECT job_id, runtime_id FROM runs ORDER BY n');
        return rows.map((r) => [Number(r.job_id), String(r.runtime_id)]);
      },
      async close() {
        await conn.end();
      },
    };
  }
  if (app.kind === 'redis') {
    // Redis: the store's own reads, and the owner's set (keys.ts: <prefix>owner:<owner>).
    const prefix = new URL(app.url).searchParams.get('prefix')!;
    const client = new Redis(app.url.split('?')[0]!);
    const total = async () => (await app.store.admin.counts({})).reduce((n, c) => n + c.waiting + c.delayed + c.processing + c.failed, 0);
    return {
      async claimedBy(owner) {
        return (await client.smembers(`${prefix}owner:${owner}`)).map(Number);
      },
      rowsLeft: total,
      async statuses() {
        return (await app.store.admin.counts({})).map((c) => `new:${c.waiting + c.delayed} processing:${c.processing} failed:${c.failed}`).join(' ');
      },
      async runs() {
        return readTrace(trace)
          .filter((l) => l.kind === 'run')
          .map((l) => [l.id, l.runtimeId]);
      },
      async close() {
        client.disconnect();
      },
    };
  }
  const db = new Database(join(app.dir, 'jobs.sqlite'), { timeout: 10_000 });
  return {
    async claimedBy(owner) {
      return db
        .prepare<[string], { id: number }>("SELECT id FROM jobs WHERE owner = ? AND status = 'processing'")
        .all(owner)
        .map((r) => r.id);
    },
    async rowsLeft() {
      return db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM jobs').get()!.n;
    },
    async statuses() {
      return db
        .prepare<[], { status: string; n: number }>('SELECT status, COUNT(*) AS n FROM jobs GROUP BY status')
        .all()
        .map((r) => `${r.status}:${r.n}`)
        .join(' ');
    },
    async runs() {
      return readTrace(trace)
        .filter((l) => l.kind === 'run')
        .map((l) => [l.id, l.runtimeId]);
    },
    async close() {
      db.close();
    },
  };
}

/** Process state letter from /proc (T = stopped). */
function procState(pid: number): string | null {
  try {
    return /^\d+ \(.*\) (\S)/.exec(readFileSync(`/proc/${pid}/stat`, 'utf8'))?.[1] ?? null;
  } catch {
    return null;
  }
}

for (const kind of ['mysql', 'sqlite', 'redis'] as StoreKind[]) {
  describe(`chaos: ${kind}`, () => {
    let app: E2eApp;
    let sql: Sql;
    let trace: string;
    const jobIds: number[] = [];
    const runtimes: Runtime[] = [];
    const kills: Kill[] = [];
    const recoveries: Array<Promise<void>> = [];
    let elapsedMs = 0;
    let rowsLeft = -1;
    const stopCodes: Array<number | null> = [];

    before(async () => {
      app = await createApp(kind, `rel_chaos_${kind}`);
      trace = join(app.dir, 'runs.txt');
      sql = await openSql(app, trace);
      const payload = kind === 'mysql' ? { mysqlUrl: app.url, ms: 5, jitterMs: 10 } : { file: trace, ms: 5, jitterMs: 10 };
      for (let i = 0; i < JOBS; i += 5000) {
        jobIds.push(
          ...(await app.store.producer.enqueue({ jobs: Array.from({ length: Math.min(5000, JOBS - i) }, () => jobRow({ handler: 'Traced', payload })) })),
        );
      }
    });

    after(async () => {
      killAll();
      await sql?.close();
      await app?.close();
    });

    const launch = () => {
      const rt: Runtime = {
        cli: startCli(['start', ...RUNTIME_ARGS, ...app.storeArgs, '--jobs-dir', JS_JOBS_DIR], { cwd: app.dir, timeoutMs: DEADLINE_MS + 60_000 }),
        id: null,
        killed: false,
      };
      waitForBanner(rt.cli, 60_000).then(
        (id) => (rt.id = id),
        () => undefined,
      );
      runtimes.push(rt);
    };

    const killOne = async () => {
      // The oldest live runtime that has printed its id (it has registered and may hold jobs).
      const victim = runtimes.find((r) => !r.killed && r.id !== null && r.cli.child.exitCode === null);
      if (!victim) return;
      victim.killed = true;
      process.kill(victim.cli.pid, 'SIGSTOP');
      await waitFor(`runtime ${victim.cli.pid} to stop`, () => procState(victim.cli.pid) === 'T', 5_000, 5);
      const inFlight = await sql.claimedBy(victim.id!);
      process.kill(victim.cli.pid, 'SIGKILL');
      const killedAt = Date.now();
      const kill: Kill = { id: victim.id!, inFlight, recoveredMs: null };
      kills.push(kill);
      await exitWithin(victim.cli, 5_000);
      if (inFlight.length > 0) {
        recoveries.push(
          waitFor(`recovery of ${victim.id}`, async () => (await sql.claimedBy(victim.id!)).length === 0, 60_000, 50).then(() => {
            kill.recoveredMs = Date.now() - killedAt;
          }),
        );
      }
    };

    test(`${JOBS} jobs, ${RUNTIMES} runtimes, one killed with SIGKILL every ~${KILL_EVERY_MS / 1000} s and replaced: the table empties`, {
      timeout: DEADLINE_MS + 120_000,
    }, async () => {
      const t0 = Date.now();
      for (let i = 0; i < RUNTIMES; i++) launch();
      let nextKill = Date.now() + KILL_EVERY_MS;
      let nextProgress = Date.now() + 5_000;
      const progress: string[] = [];
      for (;;) {
        rowsLeft = await sql.rowsLeft();
        if (rowsLeft === 0) break;
        if (Date.now() >= nextProgress) {
          progress.push(`${((Date.now() - t0) / 1000).toFixed(0)}s ${await sql.statuses()} kills=${kills.length}`);
          if (process.env.CHAOS_PROGRESS) console.log(progress.at(-1));
          nextProgress += 5_000;
        }
        if (Date.now() - t0 >= DEADLINE_MS) {
          assert.fail(
            `deadline: ${rowsLeft} row(s) still in the table after ${DEADLINE_MS} ms (${await sql.statuses()}); progress:\n${progress.join('\n')}\n` +
              `live runtimes' stderr:\n${runtimes
                .filter((r) => !r.killed)
                .map((r) => r.cli.stderr().slice(-1500))
                .join('\n---\n')}`,
          );
        }
        const died = runtimes.find((r) => !r.killed && (r.cli.child.exitCode !== null || r.cli.child.signalCode !== null));
        if (died)
          assert.fail(
            `runtime pid ${died.cli.pid} exited by itself (code ${died.cli.child.exitCode}, signal ${died.cli.child.signalCode}) during the chaos run:\n${died.cli.stderr().slice(-2000)}`,
          );
        // Kill every ~2 s, once every runtime started so far is up (under load a start takes a
        // second or two; killing faster than runtimes start would leave hardly any running).
        if (Date.now() >= nextKill && runtimes.every((r) => r.killed || r.id !== null)) {
          const at = Date.now();
          await killOne();
          launch();
          nextKill = at + KILL_EVERY_MS;
        }
        await sleep(100);
      }
      elapsedMs = Date.now() - t0;
      await Promise.all(recoveries);
      // The survivors stop cleanly.
      const live = runtimes.filter((r) => !r.killed);
      // A runtime handles signals once it has printed its banner; the newest may still be starting.
      for (const r of live) await waitForBanner(r.cli, 30_000);
      for (const r of live) process.kill(r.cli.pid, 'SIGTERM');
      for (const r of live) stopCodes.push((await exitWithin(r.cli, 15_000)).code);
      assert.equal(rowsLeft, 0);
      assert.ok(kills.length >= 2, `at least two runtimes were killed (${kills.length})`);
      assert.deepEqual(
        stopCodes,
        live.map(() => 0),
        'surviving runtimes exit 0 on SIGTERM',
      );
    });

    test('no job is missing, and every job that ran more than once was in flight on a killed runtime', async () => {
      assert.equal(rowsLeft, 0, 'the chaos run finished');
      const runs = await sql.runs();
      const byJob = new Map<number, string[]>();
      for (const [id, runtimeId] of runs) byJob.set(id, [...(byJob.get(id) ?? []), runtimeId]);
      const missing = jobIds.filter((id) => !byJob.has(id));
      const dispatched = new Set(jobIds);
      const strangers = [...byJob.keys()].filter((id) => !dispatched.has(id));
      const killedIds = new Set(kills.map((k) => k.id));
      const inFlight = new Set(kills.flatMap((k) => k.inFlight));
      const inFlightTotal = kills.reduce((n, k) => n + k.inFlight.length, 0);
      const twice = [...byJob].filter(([, rts]) => rts.length > 1);
      const duplicates = runs.length - byJob.size;
      const unexplained = twice.filter(([id, rts]) => !inFlight.has(id) || !rts.some((r) => killedIds.has(r)));
      const recovered = kills
        .map((k) => k.recoveredMs)
        .filter((ms): ms is number => ms !== null)
        .sort((a, b) => a - b);
      const median = recovered[Math.floor(recovered.length / 2)] ?? 0;

      console.log(
        `CHAOS ${kind}: jobs=${jobIds.length} kills=${kills.length} lost=${missing.length} duplicates=${duplicates} ` +
          `(${unexplained.length === 0 ? 'all' : `${twice.length - unexplained.length} of ${twice.length}`} in flight on killed runtimes; ` +
          `in flight at kill time: ${inFlightTotal}) time=${(elapsedMs / 1000).toFixed(1)}s ` +
          `recovery after SIGKILL: median ${median} ms, max ${recovered.at(-1) ?? 0} ms`,
      );

      assert.deepEqual(missing, [], 'every job ran at least once');
      assert.deepEqual(strangers, [], 'no run of a job that was not dispatched');
      assert.deepEqual(
        unexplained.map(([id, rts]) => `${id}: ${rts.join(', ')}`),
        [],
        'each job run more than once was claimed by a killed runtime at its kill, and one of its runs was by a killed runtime',
      );
      assert.ok(duplicates <= inFlightTotal, `duplicates (${duplicates}) ≤ jobs in flight on killed runtimes (${inFlightTotal})`);
    });
  });
}
