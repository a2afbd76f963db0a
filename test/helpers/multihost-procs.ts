import { spawn, type ChildProcess } from 'node:child_process';
import type { CliResult } from './cli.ts';

// Processes the multi-host rig runs on its hosts, tracked by pid and by host, so that a host can
// be stalled (SIGSTOP), resumed or killed as a whole, and every one is gone when the rig closes
// or the test process exits, whatever happened.

export interface HostProcess {
  host: string;
  pid: number;
  child: ChildProcess;
  /** stdout and stderr as received so far. */
  output(): string;
  done: Promise<CliResult>;
  exited(): boolean;
}

const all = new Set<HostProcess>();
process.on('exit', () => {
  for (const p of all) signal(p.pid, 'SIGKILL');
});
// A test runner stopping this file with a signal still gets the cleanup of the 'exit' handlers.
for (const [sig, n] of [
  ['SIGTERM', 15],
  ['SIGINT', 2],
  ['SIGHUP', 1],
] as const)
  process.once(sig, () => process.exit(128 + n));

/**
 * argv prefix that kills a child when this process dies, even by SIGKILL (its exit handlers
 * never run then): PR_SET_PDEATHSIG, kept across exec.
 */
export const DIES_WITH_US = ['setpriv', '--pdeathsig', 'KILL'];

export function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

export class HostProcesses {
  private readonly procs = new Set<HostProcess>();

  /** Runs argv (already wrapped to enter the host); SIGKILLed after timeoutMs at the latest. */
  spawn(host: string, argv: string[], env: NodeJS.ProcessEnv, timeoutMs: number): HostProcess {
    const child = spawn(DIES_WITH_US[0]!, [...DIES_WITH_US.slice(1), ...argv], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    let hasExited = false;
    const p: HostProcess = {
      host,
      pid: child.pid!,
      child,
      output: () => out + err,
      exited: () => hasExited,
      done: new Promise<CliResult>((resolve) => {
        child.on('close', (code, sig) => {
          hasExited = true;
          clearTimeout(timer);
          this.procs.delete(p);
          all.delete(p);
          resolve({ code, signal: sig, stdout: out, stderr: err });
        });
      }),
    };
    this.procs.add(p);
    all.add(p);
    return p;
  }

  on(host: string): HostProcess[] {
    return [...this.procs].filter((p) => p.host === host);
  }

  /** Sends a signal to every live process of the host (all at once, as a host stall or death). */
  signalHost(host: string, sig: NodeJS.Signals): number {
    const ps = this.on(host);
    for (const p of ps) signal(p.pid, sig);
    return ps.length;
  }

  /** SIGKILLs every process (stopped ones too) and waits until each has exited. */
  async killAll(): Promise<void> {
    const ps = [...this.procs];
    for (const p of ps) signal(p.pid, 'SIGKILL');
    await Promise.race([Promise.all(ps.map((p) => p.done)), new Promise((r) => setTimeout(r, 10_000))]);
  }
}

export interface LogLine {
  /** The line's own timestamp (epoch ms): when the runtime wrote it. */
  at: number;
  level: string;
  text: string;
}

/** A runtime's plain (non-TTY) output as timed lines; lines without a timestamp are left out. */
export function logLines(output: string): LogLine[] {
  const lines: LogLine[] = [];
  for (const m of output.matchAll(/^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z) (INFO|WARN|ERROR)\s+(.*)$/gm)) {
    lines.push({ at: Date.parse(m[1]!), level: m[2]!, text: m[3]! });
  }
  return lines;
}

/** Job ids of the ✔ lines of an output. */
export function okIds(output: string): number[] {
  return [...output.matchAll(/✔ Job processed successfully: (\d+)/g)].map((m) => Number(m[1]));
}
