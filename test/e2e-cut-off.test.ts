// A runtime cut off from its store (the link silently frozen, as a pulled cable would) must
// notice within its own heartbeat window: say that peers may presume it dead, stop claiming,
// and once the link is back drop the results of jobs a peer took over meanwhile, never showing
// them as done. Store calls have deadlines (--store-timeout), so nothing waits on the silence.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { killAll, parseJobLines, startCli } from './helpers/cli.ts';
import { createApp, JOBS_DIR, lines } from './helpers/e2e.ts';
import { FreezableProxy } from './helpers/freezable-proxy.ts';
import { claimsById, jobRow } from './helpers/job-rows.ts';
import { waitFor } from './helpers/wait.ts';

after(killAll);

const HEARTBEAT_S = 0.5;
const DEAD_AFTER_S = 3;

for (const kind of ['mysql', 'redis'] as const) {
  describe(`a runtime cut off from its store (${kind})`, () => {
    test('fences itself within its window, stops claiming, and drops the results of jobs a peer took over', { timeout: 90_000 }, async () => {
      const app = await createApp(kind, 'cut_off');
      const target = new URL(app.url);
      const proxy = await FreezableProxy.start({ host: target.hostname, port: Number(target.port || (kind === 'mysql' ? 3306 : 6379)) });
      try {
        const viaProxy = new URL(app.url);
        viaProxy.hostname = '127.0.0.1';
        viaProxy.port = String(proxy.port);
        const file = join(app.dir, 'trace.txt');
        const starts = () => {
          try {
            return lines(readFileSync(file, 'utf8')).filter((l) => l.startsWith('start ')).length;
          } catch {
            return 0;
          }
        };
        const ids = await app.store.producer.enqueue({
          jobs: [1, 2].map(() => jobRow({ handler: 'Traced', payload: { file, ms: 2000, traceStart: true }, maxAttempts: 3 })),
        });
        const rt = startCli(
          [
            'start',
            ...['--database-url', viaProxy.toString(), '--jobs-dir', JOBS_DIR, '--procs', '2', '--sleep', '0.2'],
            ...['--heartbeat', String(HEARTBEAT_S), '--dead-after', String(DEAD_AFTER_S), '--store-timeout', '1'],
          ],
          { cwd: app.dir, timeoutMs: 80_000 },
        );
        await waitFor('both jobs to start', () => starts() === 2, 20_000);

        proxy.freeze();
        const cutAt = performance.now();
        await waitFor('the runtime to fence itself', () => /peers may presume this runtime dead; claiming stopped/.test(rt.stderr() + rt.stdout()), 15_000, 20);
        const fencedAfterS = (performance.now() - cutAt) / 1000;
        // Its last good beat was at most one heartbeat before the cut: the warning comes between
        // dead-after − 2 heartbeats and dead-after (plus a beat for the timer), never after peers act.
        // Below, 0.3 s for timers running late on a loaded machine (a late beat before the cut is
        // an earlier last beat, so an earlier fence: safe, and seen at 1.87 s in CI).
        assert.ok(fencedAfterS >= DEAD_AFTER_S - 2 * HEARTBEAT_S - 0.3, `fenced after ${fencedAfterS.toFixed(2)} s`);
        assert.ok(fencedAfterS <= DEAD_AFTER_S + HEARTBEAT_S, `fenced after ${fencedAfterS.toFixed(2)} s`);

        // A peer finds it dead (silent past dead-after by the store's clock) and runs its jobs.
        await waitFor(
          'a peer to recover the silent runtime',
          async () => (await app.store.registry.recoverDeadRuntimes({ deadAfterMs: DEAD_AFTER_S * 1000, maxInterruptions: 3 })).released === 2,
          15_000,
          200,
        );
        const claim = claimsById(await app.store.queue.claim({ owner: 'peer', queues: null, limit: 10 }));
        await app.store.queue.record({ owner: 'peer', results: ids.map((id) => ({ ...claim(id), queue: 'default', outcome: 'completed' as const })) });

        proxy.thaw();
        const out = () => rt.stdout() + rt.stderr();
        // Dropped as each write of them meets the store again (one line per write).
        const dropped = () => [...out().matchAll(/Dropped (\d+) result\(s\) of jobs a peer took over/g)].reduce((n, m) => n + Number(m[1]), 0);
        await waitFor('the stale results to be dropped', () => dropped() === 2, 30_000, 50);
        await waitFor('claiming to resume', () => /A heartbeat reached the store again: claiming resumed/.test(out()), 30_000, 50);
        assert.match(out(), /This runtime had been removed from the registry \(presumed dead by a peer/);
        rt.child.kill('SIGTERM');
        const done = await rt.done;
        assert.equal(done.code, 0, done.stderr);
        assert.deepEqual(parseJobLines(done.stdout).ok, [], 'no ✔ line for results that were not recorded');
        assert.match(done.stdout, /jobs-runtime stopped: 0 completed, 0 failed, 0 retried, 0 given back, 2 result\(s\) dropped/);
        for (const id of ids) assert.equal(await app.store.admin.getJob({ id }), null, "the peer's runs completed the jobs");
      } finally {
        await proxy.close();
        await app.close();
      }
    });
  });
}
