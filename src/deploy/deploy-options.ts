import { dirname } from 'node:path';

// What both unit formats are rendered from: every value already validated, every path absolute.

export interface DeployOptions {
  name: string;
  user: string;
  group: string | null;
  /** The app directory: the runtime's working directory. */
  dir: string;
  /** Worker threads per master (`start --procs`); null = the runtime's default (one per CPU). */
  procs: number | null;
  queues: string[] | null;
  envFile: string | null;
  log: string;
  graceMs: number;
  /** The node binary and this package's bin, by absolute path. */
  node: string;
  bin: string;
}

/** Margin on top of the grace period before SIGKILL: giving back jobs, leaving the registry. */
export const STOP_MARGIN_S = 15;

export function stopTimeoutSeconds(graceMs: number): number {
  return Math.ceil(graceMs / 1000) + STOP_MARGIN_S;
}

/** `start` arguments both formats share. The grace is written out so the stop timeouts match it. */
export function startArgv(o: DeployOptions): Array<{ what: string; value: string }> {
  const argv = [
    { what: 'node binary path', value: o.node },
    { what: 'jobs-runtime bin path', value: o.bin },
    { what: 'start', value: 'start' },
  ];
  if (o.procs !== null) argv.push({ what: '--procs', value: '--procs' }, { what: '--procs', value: String(o.procs) });
  if (o.queues) argv.push({ what: '--queue', value: '--queue' }, { what: '--queue', value: o.queues.join(',') });
  argv.push({ what: '--grace', value: '--grace' }, { what: '--grace', value: String(o.graceMs / 1000) });
  return argv;
}

/** The directories the runtime writes to: its own (log, SQLite store, job output) and the log's. */
export function writableDirs(o: DeployOptions): string[] {
  return [...new Set([o.dir, dirname(o.log)])];
}

export function isUnder(path: string, roots: string[]): boolean {
  return roots.some((r) => path === r || path.startsWith(`${r}/`));
}
