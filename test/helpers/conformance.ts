import { after, before, describe } from 'node:test';
import { openStore } from '../../src/stores/open-store.ts';
import type { JobStore } from '../../src/stores/store.ts';
import { STORE_FACTORIES, type StoreFixture } from './stores.ts';

// The conformance suite: one file per role of the store seam (test/conformance-*.test.ts), each
// running its cases on every store. A store, or a new store feature, is done when all pass on it.

/**
 * Declares `cases` once per store kind, in a describe of their own with a fresh store (its own
 * database, key prefix or file), so one role's cases never see another's jobs. `fixture()` is
 * the store of the running describe; it is set once the describe's first `before` has run.
 */
export function describeEachStore(role: string, cases: (fixture: () => StoreFixture) => void): void {
  for (const factory of STORE_FACTORIES) {
    describe(`${role} conformance: ${factory.kind}`, () => {
      let fx: StoreFixture | undefined;
      before(async () => {
        fx = await factory.create(`conformance-${role}`);
      });
      after(async () => fx?.cleanup());
      cases(() => {
        if (!fx) throw new Error(`the ${factory.kind} store of the ${role} conformance cases is not open yet`);
        return fx;
      });
    });
  }
}

/** Claims and completes every due job, so a test starts from an empty queue set. */
export async function drain(store: JobStore): Promise<void> {
  for (;;) {
    const jobs = await store.queue.claim({ owner: 'drain', queues: null, limit: 1000 });
    if (jobs.length === 0) return;
    await store.queue.record({ owner: 'drain', results: jobs.map((j) => ({ id: j.id, token: j.token, queue: j.queue, outcome: 'completed' as const })) });
  }
}

/** Another store on the same database: its own connection (MySQL, Redis) or handle (SQLite). */
export function reopen(fx: StoreFixture): Promise<JobStore> {
  return openStore(fx.url, { maxConnections: 1 });
}
