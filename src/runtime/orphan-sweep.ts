import type { Registry } from '../stores/store.js';
import { LeasedTask } from './leased-task.js';
import type { Logger } from './logger.js';

// The orphan sweep (Registry.sweepOrphans: jobs claimed longer than --dead-after by an owner
// that is not registered), once per period across every runtime and host, by the holder of the
// store's 'orphan-sweep' lease (leased-task.ts). It used to run in every runtime at every
// heartbeat, and on MySQL its scan locked every processing row: six runtimes on 20,000 jobs
// deadlocked with result writes 17 times. A sweep that fails is only tried again next period:
// it suspends nothing, and the heartbeat's recovery of dead runtimes goes on apart from it.

export const ORPHAN_SWEEP_LEASE = 'orphan-sweep';

export interface OrphanSweepOptions {
  registry: Pick<Registry, 'acquireLease' | 'releaseLease' | 'sweepOrphans'>;
  log: Logger;
  /** This runtime's id: the lease holder. */
  owner: string;
  deadAfterMs: number;
  maxInterruptions: number;
  /** Each job given back or failed writes an outcome event (issue 17). */
  keepOutcomes?: boolean;
  everyMs: number;
}

export function orphanSweep(o: OrphanSweepOptions): LeasedTask {
  return new LeasedTask({
    registry: o.registry,
    lease: ORPHAN_SWEEP_LEASE,
    owner: o.owner,
    everyMs: o.everyMs,
    minTtlMs: 3_000,
    work: async () => {
      const r = await o.registry.sweepOrphans({
        deadAfterMs: o.deadAfterMs,
        maxInterruptions: o.maxInterruptions,
        ...(o.keepOutcomes ? { keepOutcomes: true } : {}),
      });
      if (r.released === 0 && r.failed === 0) return;
      o.log.warn(
        `Gave back ${r.released} job(s) claimed over ${Math.round(o.deadAfterMs / 1000)} s ago by owners that are not registered` +
          (r.failed ? `, ${r.failed} failed after too many interruptions` : ''),
        { event: 'orphans_recovered', ...r },
      );
    },
  });
}
