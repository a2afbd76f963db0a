// Jobs finished per second, smoothed over about a quarter second: sizes claims to the current pace.
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
      const weight = Math.min(1, elapsed / 250);
      this.rate = this.rate + (current - this.rate) * weight;
      this.count = 0;
      this.since = now;
    }
    return this.rate;
  }
}
