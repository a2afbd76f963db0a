import type { Admin, Registry } from '../stores/store.js';
import { formatAge } from '../values/age.js';
import type { Logger } from './logger.js';
import { timerMs } from './long-timers.js';

// Retention, inside the runtime: every `everyMs` one runtime (the holder of the store's
// 'pruner' lease, whichever host it is on) deletes completed rows past --keep-completed and
// failed rows past --keep-failed, in small batches (see JobStore.prune), and trims the
// throughput counters. The lease lasts a few periods, so the same runtime keeps the job while
// it lives; it gives the lease up when it stops cleanly, and after a crash another takes over
// once the lease expires.

export const PRUNER_LEASE = 'pruner';
const LEASE_PERIODS = 3;

export interface PrunerOptions {
  /** The lease that makes one runtime the pruner. */
  registry: Pick<Registry, 'acquireLease' | 'releaseLease'>;
  admin: Pick<Admin, 'prune'>;
  log: Logger;
  /** This runtime's id: the lease holder. */
  owner: string;
  /** Delete completed rows older than this (null: keep them). */
  completedRetentionMs: number | null;
  /** Delete failed rows older than this (null: keep them). */
  failedRetentionMs: number | null;
  everyMs: number;
}

export class Pruner {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;

  constructor(private readonly o: PrunerOptions) {}

  start(): void {
    this.timer = setInterval(() => {
      this.running ??= this.runOnce().finally(() => (this.running = null));
    }, timerMs(this.o.everyMs));
    this.timer.unref();
  }

  private async runOnce(): Promise<void> {
    try {
      const ttlMs = Math.max(this.o.everyMs * LEASE_PERIODS, 10_000);
      if (!(await this.o.registry.acquireLease({ name: PRUNER_LEASE, owner: this.o.owner, ttlMs }))) return;
      const report = await this.o.admin.prune({
        completedOlderThanMs: this.o.completedRetentionMs,
        failedOlderThanMs: this.o.failedRetentionMs,
      });
      if (report.completed > 0 || report.failed > 0) {
        const parts = [];
        if (report.completed > 0) parts.push(`${report.completed} completed job(s) older than ${formatAge(this.o.completedRetentionMs!)}`);
        if (report.failed > 0) parts.push(`${report.failed} failed job(s) older than ${formatAge(this.o.failedRetentionMs!)}`);
        this.o.log.info(`Pruned ${parts.join(' and ')}`, { event: 'pruned', ...report });
      }
    } catch {
      // The store is away: the claim loop reports it; the next period tries again.
    }
  }

  /** Stops, and gives the lease up so another runtime takes over pruning at its next period. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
    await this.o.registry.releaseLease({ name: PRUNER_LEASE, owner: this.o.owner }).catch(() => undefined);
  }
}
