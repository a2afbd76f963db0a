// W2: an idle runtime; single dispatch() calls 20 ms apart (absolute schedule) from another
// process; each job records now − dispatched_at. With `wake`, the dispatcher can signal the
// runtime (same host); without, it cannot (as from another host) and only polling finds jobs.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cpuMsOf, freshStore, pct, result, ROOT, sleep, startRuntime, type StoreKind } from '../lib.ts';

export interface Latency {
  p50: number;
  p95: number;
  p99: number;
}

export async function w2(kind: StoreKind, count: number, wake: boolean): Promise<Latency> {
  const b = await freshStore(kind, 'w2');
  const runtime = startRuntime(b.url, ['--procs', '4']);
  const dir = mkdtempSync(join(tmpdir(), 'jr-w2-'));
  try {
    await runtime.ready;
    const file = join(dir, 'latency.txt');
    execFileSync(process.execPath, ['--import', 'tsx', join(ROOT, 'bench/w2-dispatcher.ts'), b.url, String(count), file], {
      env: { ...process.env, JOBS_WAKE: wake ? '1' : '0' },
      stdio: 'inherit',
    });
    for (let i = 0; i < 200 && readLines(file).length < count; i++) await sleep(25);
    const lat = readLines(file)
      .map(Number)
      .sort((x, y) => x - y);
    if (lat.length < count) throw new Error(`only ${lat.length} of ${count} W2 jobs ran`);
    const name = wake ? 'w2' : 'w2-nowake';
    const r = { p50: pct(lat, 50), p95: pct(lat, 95), p99: pct(lat, 99) };
    result(kind, `${name}-p95`, r.p95, 'ms');
    result(kind, `${name}-p99`, r.p99, 'ms');
    result(kind, `${name}-p50`, r.p50, 'ms');
    return r;
  } finally {
    await runtime.stop();
    await b.drop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * CPU an idle runtime uses, as a percentage of one core: over the first `seconds` after it is
 * ready, and over the next `seconds`. The first window holds a one-off cost of the start: V8's
 * memory reducer compacts each thread's heap about 8 s after it started and the master's
 * about 24 s after (seen with --trace-gc), some 0.3 s of CPU in all; the second is what the
 * runtime costs for as long as it stays idle.
 */
export async function idleCpu(kind: StoreKind, seconds: number): Promise<{ firstWindow: number; steady: number }> {
  const b = await freshStore(kind, 'idle');
  const runtime = startRuntime(b.url, ['--procs', '4']);
  try {
    await runtime.ready;
    const window = async () => {
      const c0 = cpuMsOf(runtime.pid);
      await sleep(seconds * 1000);
      return ((cpuMsOf(runtime.pid) - c0) / (seconds * 1000)) * 100;
    };
    const firstWindow = await window();
    const steady = await window();
    result(kind, 'idle-cpu-first-window', firstWindow, '%-of-one-core');
    result(kind, 'idle-cpu', steady, '%-of-one-core');
    return { firstWindow, steady };
  } finally {
    await runtime.stop();
    await b.drop();
  }
}

function readLines(file: string): string[] {
  try {
    return readFileSync(file, 'utf8').split('\n').filter(Boolean);
  } catch {
    return [];
  }
}
