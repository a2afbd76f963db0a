// Jobs finished per second, rising within ~50 ms and falling over ~250 ms: sizes claims to the current pace.
export class ThroughputMeter {
  private count = 0;
  private rate = 0;
  private since = performance.now();

  tick(): void {
    this.count++;
  }

  perSecond(): number {
    const now = performance.now();
    const elapsed = now - this.since;
    if (elapsed >= 20) {
      const current = (this.count * 1000) / elapsed;
      // Up within ~50 ms (a burst of fast jobs gets big claims after a few round trips, not after
      // a quarter second of small ones: W1 up to +15%), down over ~250 ms (one slow job is not a trend).
      // Not faster: results arrive in bursts (a batch, every thread at once), and one short
      // window would overrate slow jobs and claim more of them than the threads can start soon.
      const weight = Math.min(1, elapsed / (current > this.rate ? 50 : 250));
      this.rate = this.rate + (current - this.rate) * weight;
      this.count = 0;
      this.since = now;
    }
    return this.rate;
  }
}
