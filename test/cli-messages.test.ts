// Small messages a newcomer trips over (SQLite, the real CLI): a pause of a queue nothing knows
// warns, `status --interval` is checked and warns without --watch, a negative duration is
// named as such, a retry due at once says "retrying now", and the log lines of a runtime whose
// stdout and stderr share one file (supervisor, `2>&1`) come out in timestamp order.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { JobStore, NewJob } from '../src/stores/store.ts';
import { BIN, killAll } from './helpers/cli.ts';
import { JOBS_DIR } from './helpers/e2e.ts';
import { createOpsApp, type OpsApp } from './helpers/ops.ts';
import { STORE_FACTORIES } from './helpers/stores.ts';
import { jobRow } from './helpers/job-rows.ts';

const SQLITE = STORE_FACTORIES.find((f) => f.kind === 'sqlite')!;

const started = new Set<number>();
after(() => {
  killAll();
  for (const pid of started) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});

describe('cli: warnings and messages (SQLite)', () => {
  let app: OpsApp;
  let store: JobStore;
  const cli = (args: string[]) => app.cli(args);

  before(async () => {
    app = await createOpsApp(SQLITE, 'cli_messages');
    store = app.store;
  });
  after(async () => app?.cleanup());

  test('pause of a queue no job and no runtime knows warns (a typo?), and pauses it all the same', { timeout: 45_000 }, async () => {
    await store.producer.enqueue({ jobs: [jobRow({ handler: 'Ok', queue: 'has-jobs' })] });
    await store.registry.registerRuntime({ runtime: { id: 'msg-test-runtime', host: 'elsewhere', pid: 1, queues: ['listed'], threads: 1 } });
    const [typo, withJobs, listed] = await Promise.all([cli(['pause', 'newslettr']), cli(['pause', 'has-jobs']), cli(['pause', 'listed'])]);
    assert.equal(typo!.code, 0, typo!.stderr);
    assert.match(typo!.stdout, /^✔ Queue newslettr paused/);
    assert.equal(typo!.stderr, "! No job and no runtime knows a queue 'newslettr' (a typo?): it is paused for jobs dispatched to it later\n");
    assert.equal(withJobs!.stderr, '', 'a queue with jobs: no warning');
    assert.equal(listed!.stderr, '', "a queue in a runtime's --queue list: no warning");
    const paused = (await store.admin.listPausedQueues({})).map((p) => p.queue).sort();
    assert.deepEqual(paused, ['has-jobs', 'listed', 'newslettr']);
    await store.registry.deregisterRuntime({ id: 'msg-test-runtime' });
  });

  test('status refuses --interval 0 and warns that --interval does nothing without --watch', { timeout: 45_000 }, async () => {
    const [zero, alone] = await Promise.all([cli(['status', '--interval', '0']), cli(['status', '--interval', '5'])]);
    assert.notEqual(zero!.code, 0);
    assert.match(zero!.stderr, /--interval must be at least 200 ms, got '0'/);
    assert.equal(alone!.code, 0, alone!.stderr);
    assert.equal(alone!.stderr, '! --interval has an effect only with --watch\n');
    assert.match(alone!.stdout, /^Store sqlite:/, 'the status is printed once');
  });

  test('a negative duration is refused as negative, not as unreadable text', { timeout: 45_000 }, async () => {
    const [bare, text] = await Promise.all([cli(['start', '--grace', '-1']), cli(['start', '--sleep', '-2 minutes'])]);
    assert.notEqual(bare!.code, 0);
    assert.match(bare!.stderr, /Invalid value for --grace '-1': negative durations are not allowed/);
    assert.notEqual(text!.code, 0);
    assert.match(text!.stderr, /Invalid value for --sleep '-2 minutes': negative durations are not allowed/);
  });

  test('stdout and stderr in one file: lines in timestamp order; a retry due at once says "retrying now"', { timeout: 60_000 }, async () => {
    // onSuccess of Hooks throws (no such directory): a WARN line stamped just before its ✔ line.
    const hooks = (n: number): NewJob => jobRow({ handler: 'Hooks', payload: { file: join(app.dir, 'missing', `h${n}`), fail: false }, queue: 'order' });
    const jobs = [
      ...Array.from({ length: 20 }, (_, n) => hooks(n)),
      jobRow({ handler: 'Throws', payload: { message: 'again' }, queue: 'order', maxAttempts: 2 }),
    ];
    const ids = await store.producer.enqueue({ jobs });
    const logFile = join(app.dir, 'worker.log');
    const fd = openSync(logFile, 'w');
    const child = spawn(
      process.execPath,
      [BIN, 'start', '--procs', '2', '--queue', 'order', '--stop-when-empty', '--database-url', app.url, '--jobs-dir', JOBS_DIR],
      {
        cwd: app.dir,
        env: { ...process.env, NO_COLOR: '1' },
        stdio: ['ignore', fd, fd],
      },
    );
    closeSync(fd);
    started.add(child.pid!);
    const timer = setTimeout(() => child.kill('SIGKILL'), 45_000);
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    clearTimeout(timer);
    started.delete(child.pid!);
    const lines = readFileSync(logFile, 'utf8').split('\n').filter(Boolean);
    assert.equal(code, 0, lines.join('\n'));
    const stamps = lines.map((l) => /^(\S+Z) (INFO|WARN|ERROR)/.exec(l)?.[1] ?? `no stamp: ${l}`);
    const disorder = stamps.findIndex((s, i) => i > 0 && s < stamps[i - 1]!);
    assert.equal(disorder, -1, `line ${disorder + 1} is stamped before the line above it:\n${lines.join('\n')}`);
    for (const id of ids.slice(0, 20)) {
      const warn = lines.findIndex((l) => l.includes(`WARN  Job ${id} (Hooks): onSuccess() threw`));
      const ok = lines.findIndex((l) => l.includes(`✔ Job processed successfully: ${id} `));
      assert.ok(warn >= 0 && ok > warn, `job ${id}: its warning, then its ✔ line`);
    }
    const retry = lines.find((l) => l.includes(`✖ Error dispatching job: ${ids[20]} - again (Throws, attempt 1/2, `));
    assert.match(retry ?? '', /attempt 1\/2, retrying now\) at \S*Throws\.ts:\d+:\d+$/, 'where it threw');
  });
});
