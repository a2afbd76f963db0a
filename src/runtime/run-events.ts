import type { MasterOptions } from './master.js';
import type { RunSummary } from './runtime.js';

// The fields of the start and stop events in `start --json`: what a script reads from them
// (the human lines say the same in prose, and stay as they are).

export function startedEvent(
  o: Pick<MasterOptions, 'version' | 'store' | 'storeSource' | 'queues' | 'threads' | 'concurrency' | 'jobsDir' | 'pollMs'>,
  run: { wake: boolean; wakeAddress: string | null; pid: number; runtimeId: string },
): Record<string, unknown> {
  return {
    event: 'started',
    version: o.version,
    store: o.store.displayUrl,
    storeSource: o.storeSource,
    /** Null: every queue. */
    queues: o.queues,
    threads: o.threads,
    concurrency: o.concurrency,
    jobsDir: o.jobsDir,
    pollMs: o.pollMs,
    ...run,
  };
}

export function stoppedEvent(summary: RunSummary, exitCode: number): Record<string, unknown> {
  return {
    event: 'stopped',
    completed: summary.completed,
    failed: summary.failed,
    retried: summary.retried,
    givenBack: summary.released,
    dropped: summary.dropped,
    exitCode,
  };
}
