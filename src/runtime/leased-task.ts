import type { Registry } from '../stores/store.js';
import { timerMs } from './long-timers.js';

// Work done once per period across every runtime and host (pruning, the orphan sweep): each
// runtime tries the named lease every period, and only its holder does the work. The lease
// lasts a few periods, so the same runtime keeps the job while it lives; it gives the lease up
// when it stops cleanly, and after a crash another takes over once the lease expires. A period
// that fails (the store away) is only tried again at the next: nothing else waits on it.

const LEASE_PERIODS = 3;

export interface LeasedTaskOptions {
  registry: Pick<Registry, 'acquireLease' | 'releaseLease'>;
  /** The lease's name, one per kind of work. */
  lease: string;
  /** This runtime's id: the lease holder. */
  owner: string;
  everyMs: number;
  /** The lease never lasts less than this, however short the period. */
  minTtlMs: number;
  /** The work, done by the lease holder; its errors end only this period. */
  work: () => Promise<void>;
}

export class LeasedTask {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;

  constructor(private readonly o: LeasedTaskOptions) {}

  start(): void {
    this.timer = setInterval(() => {
      this.running ??= this.runOnce().finally(() => (this.running = null));
    }, timerMs(this.o.everyMs));
    this.timer.unref();
  }

  private async runOnce(): Promise<void> {
    try {
      const ttlMs = Math.max(this.o.everyMs * LEASE_PERIODS, this.o.minTtlMs);
      if (await this.o.registry.acquireLease({ name: this.o.lease, owner: this.o.owner, ttlMs })) await this.o.work();
    } catch {
      // The store is away (the claim loop reports it) or the work lost a race past its retries.
    }
  }

  /** Stops, and gives the lease up so another runtime takes the work at its next period. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
    await this.o.registry.releaseLease({ name: this.o.lease, owner: this.o.owner }).catch(() => undefined);
  }
}
