import { existsSync, readFileSync } from 'node:fs';
import type { CliResult, RunningCli } from './cli.ts';
import { waitFor } from './wait.ts';

// Shared by the reliability suites: the side record written by the Traced and Records fixtures,
// runtime ids from banners, and bounded waits on runtimes.

export interface RunLine {
  kind: 'start' | 'run';
  id: number;
  attempt: number;
  runtimeId: string;
  at: number;
}

/** Lines of a Traced side file (missing file: none). */
export function readTrace(file: string): RunLine[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => {
      const [kind, id, attempt, runtimeId, at] = l.split(' ');
      if ((kind !== 'start' && kind !== 'run') || !runtimeId) throw new Error(`bad side-record line: ${l}`);
      return { kind, id: Number(id), attempt: Number(attempt), runtimeId, at: Number(at) };
    });
}

/** Lines of a Records side file: "<job id> <attempt> <runtime id> <payload JSON>". */
export function readRecords(file: string): Array<{ id: number; attempt: number; runtimeId: string }> {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => {
      const [id, attempt, runtimeId] = l.split(' ');
      return { id: Number(id), attempt: Number(attempt), runtimeId: runtimeId! };
    });
}

/** The runtime id printed in a runtime's banner ("…, pid 123, id host:123:abcd-ef01"). */
export function bannerId(stdout: string): string | null {
  return /started: .*, pid \d+, id (\S+)/.exec(stdout)?.[1] ?? null;
}

/** Waits for the banner of a running runtime and returns its id. */
export function waitForBanner(cli: RunningCli, timeoutMs = 20_000): Promise<string> {
  return waitFor(`the banner of runtime pid ${cli.pid}`, () => bannerId(cli.stdout()), timeoutMs);
}

/** Waits (bounded) for a runtime to exit; fails naming what it printed if it does not. */
export async function exitWithin(cli: RunningCli, ms: number): Promise<CliResult & { ms: number }> {
  const t0 = Date.now();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new Error(`runtime pid ${cli.pid} did not exit within ${ms} ms\nstdout tail: ${cli.stdout().slice(-800)}\nstderr tail: ${cli.stderr().slice(-800)}`),
        ),
      ms,
    );
  });
  try {
    const r = await Promise.race([cli.done, timeout]);
    return { ...r, ms: Date.now() - t0 };
  } finally {
    clearTimeout(timer);
  }
}

export function countBy<T>(items: T[], key: (t: T) => number | string): Map<number | string, number> {
  const m = new Map<number | string, number>();
  for (const i of items) m.set(key(i), (m.get(key(i)) ?? 0) + 1);
  return m;
}

/** SIGTERM to each runtime still running (one killed on purpose is already gone), then waits, bounded, for each to exit. */
export async function stopAll(runtimes: RunningCli[]): Promise<void> {
  for (const r of runtimes) {
    try {
      process.kill(r.pid, 'SIGTERM');
    } catch {
      // already gone (the killed one)
    }
  }
  await Promise.all(runtimes.map((r) => exitWithin(r, 30_000).catch(() => undefined)));
}
