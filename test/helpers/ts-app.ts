import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NewJob } from '../../src/stores/rows.ts';
import { type RunningCli, startCli } from './cli.ts';
import { waitFor } from './wait.ts';

// An app laid out as a user's: package.json, node_modules/jobs-runtime (a link to this
// package, as npm installs it), and job files written by the test into <dir>/jobs.

const PACKAGE_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Makes `dir` an app: an ESM package with jobs-runtime installed. Returns its jobs directory. */
export function layOutApp(dir: string): string {
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'ts-cache-app', private: true, type: 'module' }));
  mkdirSync(join(dir, 'node_modules'), { recursive: true });
  symlinkSync(PACKAGE_ROOT, join(dir, 'node_modules', 'jobs-runtime'), 'junction');
  const jobsDir = join(dir, 'jobs');
  mkdirSync(jobsDir, { recursive: true });
  return jobsDir;
}

/** Writes `files` (path relative to `dir` → contents). */
export function writeFiles(dir: string, files: Record<string, string>): void {
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
}

/** A job row for `handler` with `payload`, one attempt. */
export function jobFor(handler: string, payload: unknown = {}): NewJob {
  return { handler, queue: 'default', payload: JSON.stringify(payload), delayMs: 0, maxAttempts: 1, retryAfterMs: 0, timeoutMs: null };
}

/** Resident set size of a process, from /proc (Linux). */
export function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]) / 1024;
}

/**
 * The runtime's RSS once it has settled: sampled every 250 ms until three samples in a row
 * are within 1 MB of each other (at most 40 samples; the last one otherwise).
 */
export async function settledRssMb(pid: number): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < 40; i++) {
    samples.push(rssMb(pid));
    const last = samples.slice(-3);
    if (last.length === 3 && Math.max(...last) - Math.min(...last) < 1) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  return samples.at(-1)!;
}

/** Starts `start` for the app and waits for its started line. */
export async function startRuntime(args: string[], cwd: string): Promise<RunningCli> {
  const cli = startCli(['start', ...args], { cwd, timeoutMs: 120_000 });
  await waitFor("the runtime's started line", () => cli.stdout().includes(' started: ') || cli.child.exitCode !== null, 30_000);
  if (cli.child.exitCode !== null) throw new Error(`the runtime exited early:\n${cli.stdout()}${cli.stderr()}`);
  return cli;
}
