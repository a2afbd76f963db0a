import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { JobStore } from '../../src/stores/store.ts';
import type { Backdate } from './backdate.ts';
import { runCli, startCli, type CliResult, type RunningCli } from './cli.ts';
import { JOBS_DIR } from './e2e.ts';
import type { StoreFactory, StoreFixture } from './stores.ts';
import { waitFor } from './wait.ts';

// The operations suites: a fresh store of one kind, the real CLI pointed at it (cwd a temp
// directory), and a few ways to put rows in a known state through the store API.

export interface OpsApp {
  kind: string;
  url: string;
  store: JobStore;
  /** Moves stored times into the past (see backdate.ts): ages, retention and dead heartbeats without waiting. */
  backdate: Backdate;
  dir: string;
  /** Runs a command to its end with this store and the fixture jobs. */
  cli(args: string[], options?: { timeoutMs?: number }): Promise<CliResult>;
  /** Starts a long-running command (a runtime) with this store and the fixture jobs. */
  start(args: string[]): RunningCli;
  cleanup(): Promise<void>;
}

export async function createOpsApp(factory: StoreFactory, suite: string): Promise<OpsApp> {
  const fx: StoreFixture = await factory.create(suite);
  const dir = mkdtempSync(join(tmpdir(), `jr-${suite}-`));
  const storeArgs = ['--database-url', fx.url, '--jobs-dir', JOBS_DIR];
  return {
    kind: fx.kind,
    url: fx.url,
    store: fx.store,
    backdate: fx.backdate,
    dir,
    cli: (args, options = {}) => runCli([...args, ...storeArgs], { cwd: dir, timeoutMs: options.timeoutMs ?? 30_000 }),
    start: (args) => startCli([...args, ...storeArgs], { cwd: dir, timeoutMs: 90_000 }),
    async cleanup() {
      await fx.cleanup();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Waits for a runtime's start banner (its id is the last word); fails naming what it printed. */
export function waitForStart(cli: RunningCli, timeoutMs = 20_000): Promise<string> {
  return waitFor(
    `the banner of runtime pid ${cli.pid} (stderr: ${cli.stderr().slice(-300)})`,
    () => /started: .*, id (\S+)$/m.exec(cli.stdout())?.[1] ?? null,
    timeoutMs,
  );
}

/** Waits (bounded) for a started command to exit. */
export async function exited(cli: RunningCli, timeoutMs = 20_000): Promise<CliResult> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`pid ${cli.pid} did not exit within ${timeoutMs} ms; stdout tail: ${cli.stdout().slice(-500)}`)), timeoutMs);
  });
  try {
    return await Promise.race([cli.done, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Splits a plain-text table row into its cells (cells hold no double spaces). */
export function cells(line: string): string[] {
  return line.trim().split(/\s{2,}/);
}

/** The row of a printed table whose first cell is `first`. */
export function row(text: string, first: string): string[] | undefined {
  return text
    .split('\n')
    .map(cells)
    .find((c) => c[0] === first);
}
