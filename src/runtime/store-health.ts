import type { Logger } from './logger.js';

// One clear line when the store goes away and one when it is back, however many operations
// fail in between; and the backoff for retrying it.
export class StoreHealth {
  private failures = 0;

  constructor(
    private readonly log: Logger,
    private readonly storeUrl: string,
  ) {}

  down(e: unknown, consequence: string): void {
    this.failures++;
    if (this.failures === 1) {
      const msg = (e as Error)?.message ?? String(e);
      this.log.error(`Store unavailable (${this.storeUrl}): ${msg} — ${consequence}; retrying with backoff`);
    }
  }

  up(): void {
    if (this.failures === 0) return;
    this.log.info(`Store is back (${this.storeUrl}) after ${this.failures} failed attempt(s)`);
    this.failures = 0;
  }

  backoffMs(): number {
    return Math.min(5_000, 100 * 2 ** Math.min(this.failures, 6));
  }
}
