import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

// Runs the real bin/jobs-runtime as a child process. Every child is tracked by pid and killed
// by killAll() (call it in an after hook), so a failing test never leaves a runtime behind.

export const BIN = fileURLToPath(new URL('../../bin/jobs-runtime', import.meta.url));
const children = new Set<ChildProcess>();

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunningCli {
  child: ChildProcess;
  pid: number;
  stdout(): string;
  stderr(): string;
  done: Promise<CliResult>;
}

export function startCli(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): RunningCli {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: options.cwd,
    env: { ...process.env, NO_COLOR: '1', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const timeoutMs = options.timeoutMs ?? 60_000;
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const done = new Promise<CliResult>((resolve) => {
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      children.delete(child);
      resolve({ code, signal, stdout: out, stderr: err });
    });
  });
  return { child, pid: child.pid!, stdout: () => out, stderr: () => err, done };
}

export function runCli(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<CliResult> {
  return startCli(args, options).done;
}

export function killAll(): void {
  for (const c of children) {
    try {
      process.kill(c.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  children.clear();
}

/** The job ids of the seed's success and failure lines. */
export function parseJobLines(output: string): { ok: number[]; failed: Array<{ id: number; message: string }> } {
  const ok = [...output.matchAll(/✔ Job processed successfully: (\d+)/g)].map((m) => Number(m[1]));
  const failed = [...output.matchAll(/✖ Error dispatching job: (\d+) - (.*)$/gm)].map((m) => ({ id: Number(m[1]), message: m[2]! }));
  return { ok, failed };
}
