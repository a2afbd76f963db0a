// Node's timers take at most 2^31 − 1 ms (24.8 days): a longer delay fires after 1 ms, with only
// a warning. Options such as --max-time 30d, --grace 1 month or a job's timeout of weeks are
// legitimate, so every timer the runtime arms from a user's duration goes through here.

export const MAX_TIMER_MS = 2 ** 31 - 1;

/** A delay Node's timers can take: waits longer than 24.8 days are checked again at that point. */
export function timerMs(ms: number): number {
  return Math.min(Math.max(0, ms), MAX_TIMER_MS);
}

/** Calls `fn` once `ms` have passed, however long that is; the result cancels it. Keeps no process alive. */
export function afterLong(ms: number, fn: () => void): () => void {
  const due = performance.now() + ms;
  let timer: NodeJS.Timeout | null = null;
  const arm = () => {
    const left = due - performance.now();
    if (left <= 0) fn();
    else timer = setTimeout(arm, timerMs(Math.ceil(left))).unref();
  };
  timer = setTimeout(arm, timerMs(ms)).unref();
  return () => {
    if (timer) clearTimeout(timer);
  };
}
