// The benchmark must not rot: a small run of every workload on SQLite, checked for its figures.
// (Speed is measured by `npm run bench`, never asserted here.)
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

test('npm run bench -- --quick prints a RESULT line for every workload', () => {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const out = execFileSync(process.execPath, ['--import', 'tsx', 'bench/run.ts', '--store', 'sqlite', '--quick'], {
    cwd: root,
    encoding: 'utf8',
    timeout: 180_000,
  });
  for (const workload of [
    'w1-enqueue',
    'w1',
    'w1-priorities',
    'w1-unique',
    'w1-concurrency',
    'w1-outcomes-off',
    'w1-outcomes-kept',
    'w2-p50',
    'w2-nowake-p50',
    'w3',
    'w4-dispatch-p50',
    'idle-cpu',
    'w5-rss-idle',
    'w5-rss-after-2k',
    'w5-rss-idle-ts',
    'w6-wall',
    'w6-ideal',
    'w6-ratio',
    'w6-overtaken',
    'w6-c4-wall',
    'w6-c4-ratio',
    'w6-c4-overtaken',
    'w7-req/s',
    'w7-p50',
    'w7-p99',
    'w7-cpu-per-1k',
    'w7-backlog-cpu-per-1k',
    'w7-drain',
    'tx-better-sqlite3-plain-p50',
    'tx-better-sqlite3-with-dispatch-p50',
    'tx-better-sqlite3-commit-to-start-p50',
  ]) {
    const m = new RegExp(`^RESULT jobs-runtime sqlite ${workload} ([\\d.]+) \\S+$`, 'm').exec(out);
    assert.ok(m, `no RESULT line for ${workload}:\n${out}`);
    // Idle CPU over the quick run's 2 s can round to 0 (the kernel counts in 10 ms ticks); no job overtaken is the target.
    const zeroOk = workload === 'idle-cpu' || workload.endsWith('-overtaken');
    assert.ok(zeroOk ? Number(m[1]) >= 0 : Number(m[1]) > 0, `${workload} is ${m[1]}`);
  }
  assert.match(out, /## jobs-runtime on sqlite: median/);
  assert.match(out, /^W1 concurrency \/ plain W1 +[\d.]+ {3}target/m);
});
