import { formatMs } from './logger.js';
import { isFinalFailure, type JobTask, type JobTaskResult } from '../execution/thread-protocol.js';

// The failed attempt of a job whose thread ended under it: its own crash (process.exit, an
// uncaught error from a timer, running out of heap), its time limit, or a thread the pool
// terminated because something froze it. Words an operator can act on.

export type ThreadEnd =
  /** The job ran past its --timeout. */
  | { kind: 'timeout'; limitMs: number }
  /** The job's code did not finish loading within the load limit. */
  | { kind: 'load-timeout'; limitMs: number }
  /** The pool terminated the thread for another reason, given. */
  | { kind: 'terminated'; reason: string }
  /** The thread died by itself. */
  | { kind: 'crash'; error: unknown };

export function threadEndResult(task: JobTask, end: ThreadEnd, durationMs: number): JobTaskResult {
  const err = end.kind === 'crash' ? (end.error as Error | undefined) : undefined;
  const message =
    end.kind === 'timeout'
      ? `timed out after ${formatMs(end.limitMs)}: its thread was terminated`
      : end.kind === 'load-timeout'
        ? `timed out loading its code after ${formatMs(end.limitMs)}: its thread was terminated`
        : end.kind === 'terminated'
          ? `its worker thread was terminated: ${end.reason}`
          : describeThreadDeath(err);
  return {
    ok: false,
    durationMs,
    warnings: [],
    errorName: end.kind === 'timeout' || end.kind === 'load-timeout' ? 'JobTimeoutError' : 'ThreadCrashError',
    message,
    detail: err?.stack ? `${message}\n${err.stack}` : message,
    permanent: false,
    final: isFinalFailure(task, false),
  };
}

/** What a job did to end its thread. */
function describeThreadDeath(err: Error | undefined): string {
  const text = err?.message ?? String(err);
  if (/memory limit|heap out of memory/i.test(text)) return `ran out of memory: its worker thread reached its heap limit (${text})`;
  const exit = /worker exited with code:?\s*(-?\d+)/i.exec(text);
  if (exit) return `ended its worker thread with exit code ${exit[1]} (process.exit() in a job ends only its thread)`;
  return `uncaught error in its worker thread: ${text}`;
}
