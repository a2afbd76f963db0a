import type { Admin, Registry } from '../stores/store.js';
import { formatAge } from '../values/age.js';
import { LeasedTask } from './leased-task.js';
import type { Logger } from './logger.js';

// Retention, inside the runtime: every `everyMs` one runtime (the holder of the store's
// 'pruner' lease, whichever host it is on: leased-task.ts) deletes completed rows past
// --keep-completed and failed rows past --keep-failed, in small batches (see JobStore.prune),
// outcome events past --keep-outcomes (silently: they come and go all the time), and trims the
// throughput counters.

export const PRUNER_LEASE = 'pruner';

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
  /** Delete job outcomes (issue 17) older than this (null: outcomes are not kept). */
  outcomesRetentionMs?: number | null;
  everyMs: number;
}

export class Pruner extends LeasedTask {
  constructor(o: PrunerOptions) {
    super({ registry: o.registry, lease: PRUNER_LEASE, owner: o.owner, everyMs: o.everyMs, minTtlMs: 10_000, work: () => pruneOnce(o) });
  }
}

async function pruneOnce(o: PrunerOptions): Promise<void> {
  const report = await o.admin.prune({
    completedOlderThanMs: o.completedRetentionMs,
    failedOlderThanMs: o.failedRetentionMs,
    ...(o.outcomesRetentionMs ? { outcomesOlderThanMs: o.outcomesRetentionMs } : {}),
  });
  if (report.completed > 0 || report.failed > 0) {
    const parts = [];
    if (report.completed > 0) parts.push(`${report.completed} completed job(s) older than ${formatAge(o.completedRetentionMs!)}`);
    if (report.failed > 0) parts.push(`${report.failed} failed job(s) older than ${formatAge(o.failedRetentionMs!)}`);
    o.log.info(`Pruned ${parts.join(' and ')}`, { event: 'pruned', ...report });
  }
}
