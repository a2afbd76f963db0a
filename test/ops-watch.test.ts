// The terminal side of the operator commands, in a real pseudo-terminal (tmux): `status --watch`
// draws one screen and redraws it in place as the store changes, q and Ctrl-C quit and give the
// shell its screen back; `flush` asks before deleting, and only "y" deletes.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { BIN } from './helpers/cli.ts';
import { JOBS_DIR } from './helpers/e2e.ts';
import { createOpsApp, row, type OpsApp } from './helpers/ops.ts';
import { STORE_FACTORIES } from './helpers/stores.ts';
import { waitFor } from './helpers/wait.ts';
import { failJobs, jobRow } from './helpers/job-rows.ts';

// A tmux server of our own (its own socket): nothing else on the machine is touched.
const SOCKET = `jr-ops-watch-${process.pid}`;
const tmux = (...args: string[]) => execFileSync('tmux', ['-L', SOCKET, ...args], { encoding: 'utf8' });
const screen = (name: string) => tmux('capture-pane', '-p', '-t', name);
const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

describe('in a terminal (tmux)', () => {
  let app: OpsApp;
  before(async () => {
    app = await createOpsApp(STORE_FACTORIES.find((f) => f.kind === 'sqlite')!, 'ops_watch');
  });
  after(async () => {
    try {
      tmux('kill-server');
    } catch {
      // no session left
    }
    await app?.cleanup();
  });

  /** Runs a jobs-runtime command in a new 150×40 tmux session; the pane stays after it exits, showing [exit N]. */
  function open(name: string, args: string[]): void {
    const cmd = [process.execPath, BIN, ...args, '--database-url', app.url, '--jobs-dir', JOBS_DIR].map(shellQuote).join(' ');
    tmux('new-session', '-d', '-s', name, '-x', '150', '-y', '40', '-c', app.dir, '-e', 'NO_COLOR=1', `${cmd}; echo "[exit $?]"; sleep 120`);
  }

  test('status --watch redraws one screen in place, and q or Ctrl-C quits', async () => {
    await app.store.producer.enqueue({
      jobs: [jobRow({ queue: 'w-a' }), jobRow({ queue: 'w-a' }), jobRow({ queue: 'w-a' }), jobRow({ queue: 'w-b', delayMs: 3_600_000 })],
    });
    open('watch', ['status', '--watch', '--interval', '0.3']);
    const first = await waitFor(
      'the first screen',
      () => {
        const s = screen('watch');
        return s.includes('Queues (') ? s : null;
      },
      15_000,
      100,
    );
    assert.match(first, /^Store sqlite:.*jobs\.sqlite at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/m);
    assert.match(first, /^Runtimes: none running$/m);
    assert.deepEqual(row(first, 'w-a'), ['w-a', '3', '0', '0', '0', '0', '0', '0', '0', '0', 'active']);
    assert.deepEqual(row(first, 'w-b'), ['w-b', '0', '1', '0', '0', '0', '0', '0', '0', '0', 'active']);
    assert.match(first, /^Every 0\.3s · q or Ctrl-C quits$/m);

    // The store changes: the next frames show it, drawn over the old one.
    await app.store.producer.enqueue({ jobs: [jobRow({ queue: 'w-a' }), jobRow({ queue: 'w-a' })] });
    await app.store.admin.setQueuePaused({ queue: 'w-b', paused: true });
    await failJobs(app.store, 'w-c', ['Ok']);
    const later = await waitFor(
      'a redrawn screen',
      () => {
        const s = screen('watch');
        return row(s, 'w-a')?.[1] === '5' && row(s, 'w-b')?.[10] === 'PAUSED' && row(s, 'w-c') ? s : null;
      },
      15_000,
      100,
    );
    assert.deepEqual(row(later, 'w-c'), ['w-c', '0', '0', '0', '0', '1', '0', '1', '0', '1', 'active']);
    assert.equal(later.match(/^Store /gm)?.length, 1, 'one screen, redrawn in place');
    assert.equal(later.split('\n')[0]!.startsWith('Store '), true, 'drawn from the top-left corner');

    tmux('send-keys', '-t', 'watch', 'q');
    const closed = await waitFor(
      'the watch to quit on q',
      () => {
        const s = screen('watch');
        return s.includes('[exit 0]') ? s : null;
      },
      10_000,
      100,
    );
    assert.doesNotMatch(closed, /Queues \(/, 'the alternate screen is left: the shell screen is back');

    open('watch2', ['status', '--watch', '--interval', '0.3']);
    await waitFor('the second watch', () => screen('watch2').includes('Queues ('), 15_000, 100);
    tmux('send-keys', '-t', 'watch2', 'C-c');
    await waitFor('the watch to quit on Ctrl-C', () => screen('watch2').includes('[exit 0]'), 10_000, 100);
  });

  test('flush asks on a terminal: anything but y keeps the jobs; y deletes them', async () => {
    const ids = await failJobs(app.store, 'w-flush', ['Ok', 'Ok']);
    const prompt = 'Delete 2 failed job(s) on queue w-flush? This cannot be undone. [y/N]';
    open('flush-no', ['flush', '--queue', 'w-flush']);
    await waitFor('the question', () => screen('flush-no').includes(prompt), 15_000, 100);
    tmux('send-keys', '-t', 'flush-no', 'n', 'Enter');
    await waitFor('the answer', () => screen('flush-no').includes('[exit 1]'), 10_000, 100);
    assert.match(screen('flush-no'), /Nothing deleted\./);
    assert.equal((await app.store.admin.listFailed({ queue: 'w-flush', limit: 5 })).total, 2);

    open('flush-yes', ['flush', '--queue', 'w-flush']);
    await waitFor('the question', () => screen('flush-yes').includes(prompt), 15_000, 100);
    tmux('send-keys', '-t', 'flush-yes', 'y', 'Enter');
    await waitFor('the answer', () => screen('flush-yes').includes('[exit 0]'), 10_000, 100);
    assert.match(screen('flush-yes'), /✔ 2 failed jobs deleted/);
    for (const id of ids) assert.equal(await app.store.admin.getJob({ id }), null);
  });
});
