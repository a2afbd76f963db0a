// The same-host wake-up path publishes each idle runtime's UDP port in a directory every local
// user can write to (/dev/shm/jobs-runtime-wake, here a temp root via JOBS_WAKE_DIR). The
// runtime trusts only real directories owned by itself or root: a planted symbolic link or
// another user's directory turns the wake-up off (with a warning) and is left untouched.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { killAll, runCli, startCli } from './helpers/cli.ts';
import { createApp, type E2eApp } from './helpers/e2e.ts';
import { waitFor } from './helpers/wait.ts';

after(() => killAll());

const storeDirName = (app: E2eApp) => createHash('sha256').update(app.store.displayUrl).digest('hex').slice(0, 16);

async function withWakeRoot(fn: (app: E2eApp, root: string, env: NodeJS.ProcessEnv) => Promise<void>): Promise<void> {
  const app = await createApp('sqlite', 'wake_dir');
  const root = join(mkdtempSync(join(tmpdir(), 'jr-wake-root-')), 'wake');
  try {
    await fn(app, root, { JOBS_WAKE_DIR: root });
  } finally {
    killAll();
    await app.close();
    rmSync(join(root, '..'), { recursive: true, force: true });
  }
}

describe('wake-up directory', () => {
  test('a dispatch on this host wakes an idle runtime at once; its port file is its own, in sticky shared directories', async () => {
    await withWakeRoot(async (app, root, env) => {
      const rt = startCli(['start', '--procs', '1', '--sleep', '30', ...app.storeArgs], { cwd: app.dir, env, timeoutMs: 40_000 });
      await waitFor('the runtime to start', () => rt.stdout().includes(' started: '), 20_000);
      assert.match(rt.stdout(), /poll 30 s \+ wake-up/);
      const dir = join(root, storeDirName(app));
      for (const d of [root, dir]) assert.equal(statSync(d).mode & 0o7777, 0o1777, `${d} is sticky and world-writable`);
      const files = readdirSync(dir);
      assert.deepEqual(
        files.map((f) => f.replace(/^\d+-/, 'PORT-')),
        [`PORT-${rt.pid}`],
      );
      assert.equal(statSync(join(dir, files[0]!)).mode & 0o777, 0o644);

      const t0 = Date.now();
      const d = await runCli(['dispatch', 'Ok', ...app.storeArgs], { cwd: app.dir, env, timeoutMs: 20_000 });
      assert.equal(d.code, 0, d.stderr);
      await waitFor('the job to run', () => rt.stdout().includes('✔ Job processed successfully'), 10_000);
      assert.ok(Date.now() - t0 < 5_000, `woken, not polled after 30 s (${Date.now() - t0} ms)`);
      rt.child.kill('SIGTERM');
      assert.equal((await rt.done).code, 0);
      assert.deepEqual(readdirSync(dir), [], 'its port file is removed when it stops');
    });
  });

  test('a symbolic link planted where the store directory goes is refused, and what it points at is left alone', async () => {
    await withWakeRoot(async (app, root, env) => {
      mkdirSync(root, { mode: 0o1777 });
      const target = join(root, '..', 'victim');
      mkdirSync(target, { mode: 0o755 });
      writeFileSync(join(target, '40000-999999999'), 'keep me');
      symlinkSync(target, join(root, storeDirName(app)));
      const r = await runCli(['start', '--procs', '1', '--stop-when-empty', ...app.storeArgs], { cwd: app.dir, env, timeoutMs: 30_000 });
      assert.equal(r.code, 0, r.stderr);
      assert.doesNotMatch(r.stdout, /\+ wake-up/);
      assert.match(r.stderr, /Same-host wake-up off \(.*is not a directory \(a symbolic link\?\)\): new jobs are found by the next poll/);
      assert.equal(statSync(target).mode & 0o7777, 0o755, 'its mode is unchanged');
      assert.deepEqual(readdirSync(target), ['40000-999999999'], 'nothing in it was pruned or added');
    });
  });

  test("another user's directory is not written to", { skip: process.getuid?.() !== 0 && 'needs root to give a directory to another user' }, async () => {
    await withWakeRoot(async (app, root, env) => {
      mkdirSync(root, { mode: 0o1777 });
      chownSync(root, 65534, 65534);
      const r = await runCli(['start', '--procs', '1', '--stop-when-empty', ...app.storeArgs], { cwd: app.dir, env, timeoutMs: 30_000 });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /Same-host wake-up off \(.*belongs to another user \(uid 65534\)\)/);
      assert.equal(existsSync(join(root, storeDirName(app))), false, 'no store directory was made in it');
    });
  });
});
