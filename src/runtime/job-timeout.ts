import { timerMs } from './long-timers.js';
import { Phase, type TaskSlots } from '../execution/task-slots.js';
import type { ThreadEnd } from './thread-death.js';

/**
 * A job's time limit counts from when its thread starts running it, not from when it was
 * queued in the pool nor while its code first loads (which has a limit of its own): the thread
 * writes each phase into its slot and the timer re-arms until the phase's limit is spent.
 * Aborting a running task terminates its thread (Piscina), which stops synchronous code.
 */
export interface JobTimeout {
  signal: AbortSignal;
  /** How the limit ran out, once it has. */
  expired(): ThreadEnd | null;
  cancel(): void;
}

export function armJobTimeout(slots: TaskSlots, job: { slot: number | undefined; submitted: number }, limitMs: number, loadLimitMs: number): JobTimeout {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | null = null;
  let expired: ThreadEnd | null = null;
  const check = () => {
    // A task without a slot counts as running from its submission (the safe side for a limit).
    const { phase, forMs } = job.slot === undefined ? { phase: Phase.RUNNING, forMs: performance.now() - job.submitted } : slots.read(job.slot);
    if (phase === Phase.FINISHED || phase === Phase.SUCCEEDED) return; // its result is on its way
    if (phase === Phase.QUEUED) {
      timer = setTimeout(check, Math.min(limitMs, 25));
      return;
    }
    const loading = phase === Phase.LOADING;
    const limit = loading ? Math.max(limitMs, loadLimitMs) : limitMs;
    if (forMs >= limit) {
      expired = loading ? { kind: 'load-timeout', limitMs: limit } : { kind: 'timeout', limitMs: limit };
      controller.abort();
    } else {
      // While loading, look again within the run's limit: the run may start any moment.
      timer = setTimeout(check, timerMs(loading ? Math.min(limit - forMs, limitMs) : limit - forMs));
    }
  };
  timer = setTimeout(check, timerMs(limitMs));
  return {
    signal: controller.signal,
    expired: () => expired,
    cancel: () => {
      if (timer) clearTimeout(timer);
    },
  };
}
