// Job outcomes end to end (issue 17), with real stores and real `bin/jobs-runtime` runtimes:
// waitFor() for a job that completes, fails after retries, finished before the call, never
// finishes, from this and from another process; jobEvents() followed from another process
// while a runtime is SIGKILLed and replaced: every job's final event arrives exactly once, after
// its other events. Every child is killed by pid in `after`.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { waitFor } from '../src/index.ts';
import { killAll, type RunningCli, startCli } from './helpers/cli.ts';
import { ALL_STORE_KINDS, bounded, createApp, type E2eApp } from './helpers/e2e.ts';
import { jobRow } from './helpers/job-rows.ts';
import { waitForBanner } from './helpers/reliability.ts';
import { existsSync, readFileSync } from 'node:fs';
import { waitFor as poll } from './helpers/wait.ts';

const CLIENT = fileURLToPath(new URL('./fixtures/outcomes/client.mjs', import.meta.url));
const clients = new Set<number>();

/** The client script in its own process, on the app's store. */
function client(app: E2eApp, args: string[]): { pid: number; out: () => string; done: Promise<number | null> } {
  const child = spawn(process.execPath, [CLIENT, ...args], {
    cwd: app.dir,
    env: { ...process.env, JOBS_DATABASE_URL: app.url, JOBS_WAKE: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  clients.add(child.pid!);
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const done = new Promise<number | null>((resolve) =>
    child.on('close', (code) => {
      clients.delete(child.pid!);
      if (code !== 0 && code !== null) console.error(`client ${args.join(' ')} exited ${code}: ${err}`);
      resolve(code);
    }),
  );
  return { pid: child.pid!, out: () => out + err, done };
}

async function waitInOtherProcess(app: E2eApp, id: number, timeout: string): Promise<Record<string, Record<string, unknown>>> {
  const c = client(app, ['wait', String(id), timeout]);
  await bounded(c.done, 30_000, `the waiting process for job ${id}`);
  return JSON.parse(c.out().trim().split('\n').pop()!) as Record<string, Record<string, unknown>>;
}

/** The Holds fixture's lines: "start|end <n> <attempt> <runtime id> <ms>". */
function holdsTrace(file: string): Array<{ phase: string; n: number; runtimeId: string }> {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const [phase, n, , runtimeId] = l.split(' ');
      return { phase: phase!, n: Number(n), runtimeId: runtimeId! };
    });
}

after(() => {
  killAll();
  for (const pid of clients) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
});

for (const kind of ALL_STORE_KINDS) {
  describe(`job outcomes end to end: ${kind}`, () => {
    let app: E2eApp;
    before(async () => {
      app = await createApp(kind, 'outcomes');
    });
    after(async () => app?.close());

    test('waitFor: completed with its result, failed after retries, finished before the call, never finished', async () => {
      const runtime = startCli(['start', ...app.storeArgs, '--procs', '2', '--sleep', '0.2'], { cwd: app.dir, timeoutMs: 90_000 });
      try {
        await waitForBanner(runtime);
        const opts = { store: app.store, timeout: '20 seconds' };
        const [ok, fails, date, big] = await app.store.producer.enqueue({
          jobs: [
            jobRow({ handler: 'Returns', payload: { value: { sent: 3, to: ['a'] } } }),
            jobRow({ handler: 'Throws', payload: { message: 'always broken' }, maxAttempts: 2 }),
            jobRow({ handler: 'Returns', payload: { date: true } }),
            jobRow({ handler: 'Returns', payload: { bytes: 70_000 } }),
          ],
        });
        assert.deepEqual(await waitFor(ok!, opts), { status: 'completed', attempts: 1, result: { sent: 3, to: ['a'] } });
        const failed = await waitFor(fails!, opts);
        assert.equal(failed.status, 'failed');
        assert.equal(failed.attempts, 2);
        assert.match(failed.error!, /always broken/);
        // Not plain JSON, too large: the job completes, its result is dropped with a warning on its ✔ line.
        assert.deepEqual(await waitFor(date!, opts), { status: 'completed', attempts: 1 });
        assert.deepEqual(await waitFor(big!, opts), { status: 'completed', attempts: 1 });
        const output = () => runtime.stdout() + runtime.stderr();
        const dropped = (id: number, why: string) => output().includes(`Job ${id} (Returns): result dropped: run() returned ${why}`);
        await poll(
          'the warnings of the dropped results',
          () => dropped(date!, 'a Date at $.at') && dropped(big!, '70002 bytes of JSON, more than the 65536 kept'),
        );

        // Finished before the call, read by another process.
        const other = await waitInOtherProcess(app, ok!, '5 seconds');
        assert.deepEqual(other.resolved, { status: 'completed', attempts: 1, result: { sent: 3, to: ['a'] } });
        // Another process waiting while the job runs.
        const [slow] = await app.store.producer.enqueue({ jobs: [jobRow({ handler: 'Sleeps', payload: { ms: 300 } })] });
        const waiting = await waitInOtherProcess(app, slow!, '20 seconds');
        assert.equal(waiting.resolved?.status, 'completed');

        // Never finishes: a delayed job, and an id no job has.
        const [later] = await app.store.producer.enqueue({ jobs: [jobRow({ handler: 'Ok', delayMs: 3_600_000 })] });
        await assert.rejects(waitFor(later!, { store: app.store, timeout: 300 }), (e: Error & { state?: string }) => {
          assert.equal(e.name, 'JobWaitTimeoutError');
          assert.equal(e.state, 'waiting');
          assert.match(e.message, /^Job \d+ did not finish within 300 ms: it is still waiting/);
          return true;
        });
        const unknown = await waitInOtherProcess(app, 999_999, '300 ms');
        assert.equal(unknown.rejected?.state, 'unknown');
        assert.match(String(unknown.rejected?.message), /no such job is known/);
      } finally {
        runtime.child.kill('SIGTERM');
        await bounded(runtime.done, 30_000, 'the runtime stopping');
      }
    });

    test("jobEvents from another process while a runtime is SIGKILLed and replaced: each job's final event once, in order", async () => {
      const trace = join(app.dir, 'trace.txt');
      const since = (await app.store.producer.outcomes!.lastEventId()) ?? '0';
      const follower = client(app, ['follow', since]);
      await poll('the follower', () => follower.out().includes('"following":true'), 20_000);
      const n = 24;
      const ids = await app.store.producer.enqueue({
        jobs: Array.from({ length: n }, (_, k) => jobRow({ handler: 'Holds', queue: 'kill', payload: { file: trace, n: k, ms: 250 }, maxAttempts: 2 })),
      });
      const beat = ['--heartbeat', '0.2', '--dead-after', '1', '--sleep', '0.2', '--queue', 'kill'];
      const first: RunningCli = startCli(['start', ...app.storeArgs, '--procs', '4', ...beat], { cwd: app.dir, timeoutMs: 90_000 });
      const firstId = await waitForBanner(first);
      // Killed while it runs jobs, some of them recorded, some not.
      await poll('runs of the first runtime', () => holdsTrace(trace).filter((l) => l.phase === 'start' && l.runtimeId === firstId).length >= 8, 30_000);
      process.kill(first.pid, 'SIGKILL');
      await bounded(first.done, 10_000, 'the killed runtime');
      const second = startCli(['start', ...app.storeArgs, '--procs', '4', ...beat], { cwd: app.dir, timeoutMs: 90_000 });
      type Ev = { id: string; type: string; jobId: number; attempt: number };
      const events = (): Ev[] =>
        follower
          .out()
          .split('\n')
          .filter((l) => l.startsWith('{"id"'))
          .map((l) => JSON.parse(l) as Ev)
          .filter((e) => ids.includes(e.jobId));
      try {
        await poll(
          'a final event for every job',
          () =>
            new Set(
              events()
                .filter((e) => e.type !== 'retrying')
                .map((e) => e.jobId),
            ).size === n,
          60_000,
          50,
        );
      } finally {
        second.child.kill('SIGTERM');
        await bounded(second.done, 30_000, 'the second runtime stopping');
      }
      process.kill(follower.pid, 'SIGTERM');
      await bounded(follower.done, 10_000, 'the follower');
      const all = events();
      assert.equal(new Set(all.map((e) => e.id)).size, all.length, 'no event arrives twice');
      for (const id of ids) {
        const mine = all.filter((e) => e.jobId === id);
        const finals = mine.filter((e) => e.type !== 'retrying');
        assert.equal(finals.length, 1, `job ${id}: one final event, got ${JSON.stringify(mine)}`);
        assert.equal(finals[0]!.type, 'completed', `job ${id} completed`);
        assert.equal(mine.at(-1), finals[0], `job ${id}: its final event comes last`);
        // Before it, only 'retrying' events of the recovery of the killed runtime's claims (run,
        // or claimed and not started yet): none invented. Ids increase per job: commit order.
        for (const e of mine.slice(0, -1)) {
          assert.match(
            (e as Ev & { error: string }).error,
            new RegExp(`^Interrupted: the runtime running it \\(${firstId}\\) died`),
            `job ${id}: only the killed runtime's claims come back`,
          );
        }
        const seqs = mine.map((e) => e.id);
        assert.deepEqual(seqs, [...seqs].sort(kind === 'redis' ? compareStreamIds : (a, b) => Number(a) - Number(b)), `job ${id}: events in commit order`);
      }
      assert.ok(
        all.some((e) => e.type === 'retrying'),
        'the killed runtime left jobs that recovery gave back, each with an event',
      );
    });
  });
}

function compareStreamIds(a: string, b: string): number {
  const [at, as] = a.split('-').map(Number);
  const [bt, bs] = b.split('-').map(Number);
  return at! - bt! || as! - bs!;
}
