// A dispatching process wakes a store's runtimes at most once per WAKE_SEND_GAP_MS. A woken
// runtime claims every due job, so under a steady trickle (a web server dispatching hundreds of
// jobs a second) one datagram per dispatch only costs both sides CPU: a send here, a receive and
// an event-loop turn in every runtime, twice on MySQL (the same-host and the registered path).
// The first dispatch after a quiet gap is announced at once (W2's latency stays); later ones
// within the gap share one trailing wake-up at its end, carrying the last key, so no dispatch
// is left to the poll. The trailing timer keeps a script alive for at most the gap.

/** Least time between two wake-ups of one store from this process (≥ the runtime's claim gap, wake-up-gathering.ts). */
export const WAKE_SEND_GAP_MS = 8;

export class WakeThrottle {
  private lastSentAt = Number.NEGATIVE_INFINITY;
  private trailing: NodeJS.Timeout | null = null;
  private trailingKey: string | null = null;

  constructor(
    private readonly send: (key: string | null) => void,
    private readonly gapMs = WAKE_SEND_GAP_MS,
  ) {}

  signal(key: string | null): void {
    if (this.trailing) {
      this.trailingKey = key;
      return;
    }
    const waitMs = this.lastSentAt + this.gapMs - performance.now();
    if (waitMs <= 0) {
      this.lastSentAt = performance.now();
      this.send(key);
      return;
    }
    this.trailingKey = key;
    this.trailing = setTimeout(() => {
      this.trailing = null;
      this.lastSentAt = performance.now();
      this.send(this.trailingKey);
    }, Math.ceil(waitMs));
  }
}
