// Bounds what wake-up signals can cost a runtime, whoever sends them: each one is a claim, so a
// flood of datagrams (or of PUBLISHes) must not become a flood of store queries. A token bucket:
// a burst of BURST wake-ups passes at once, after that at most one per MIN_GAP_MS; a signal with
// no token left is not dropped but deferred to when the next token comes, so a dispatch is never
// missed, and any number of signals meanwhile share that one deferred wake-up. A claim that
// finds jobs gives its token back (refund): only wake-ups that find nothing are budgeted, so
// dispatches that come in bursts (50 in a second, 5 within a millisecond) are each claimed at
// once, while a flood of signals that announce nothing still costs at most the bound.

/** Sustained bound: at most one extra claim per this many ms (50 per second). */
export const WAKE_MIN_GAP_MS = 20;
const BURST = 5;

export class WakeCoalescer {
  private tokens = BURST;
  private refilledAt = performance.now();
  private deferred: NodeJS.Timeout | null = null;

  constructor(
    private readonly wake: () => void,
    private readonly minGapMs = WAKE_MIN_GAP_MS,
  ) {}

  signal(): void {
    if (this.deferred) return; // one wake-up is already due: this signal rides on it
    this.refill();
    if (this.tokens >= 1) {
      this.tokens--;
      this.wake();
      return;
    }
    const waitMs = Math.ceil((1 - this.tokens) * this.minGapMs);
    this.deferred = setTimeout(() => {
      this.deferred = null;
      this.refill();
      this.tokens = Math.max(0, this.tokens - 1);
      this.wake();
    }, waitMs);
    this.deferred.unref();
  }

  /** A claim found jobs: its wake-up was worth it. A wake-up deferred for want of a token goes now. */
  refund(): void {
    this.refill();
    this.tokens = Math.min(BURST, this.tokens + 1);
    if (this.deferred && this.tokens >= 1) {
      clearTimeout(this.deferred);
      this.deferred = null;
      this.tokens--;
      this.wake();
    }
  }

  close(): void {
    if (this.deferred) clearTimeout(this.deferred);
    this.deferred = null;
  }

  private refill(): void {
    const now = performance.now();
    this.tokens = Math.min(BURST, this.tokens + (now - this.refilledAt) / this.minGapMs);
    this.refilledAt = now;
  }
}
