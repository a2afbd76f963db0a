import { defaultProducer } from '../dispatcher.js';
import { InvalidInputError } from '../errors.js';
import type { JobStore, OutcomeReader, Producer } from '../stores/store.js';

// Where waitFor() and jobEvents() read: the store the application dispatches to (dispatcher.ts),
// or one given. Light, like the rest of the application's API: nothing of the runtime loads.

export type OutcomeStoreOption = JobStore | Producer;

export async function outcomeReader(store: OutcomeStoreOption | undefined, caller: string): Promise<OutcomeReader> {
  const producer = store ? ('producer' in store ? store.producer : store) : await defaultProducer();
  if (!producer.outcomes) {
    throw new InvalidInputError(
      `${caller} needs a store that keeps job outcomes (mysql:, sqlite:, redis:); ${producer.displayUrl} keeps none ` +
        '(the sync: engine runs a job inside dispatch(), whose promise already tells how it ended; null: drops jobs)',
    );
  }
  return producer.outcomes;
}

/** JSON text a store kept, as the value run() returned. */
export function parseResult(text: string | null): unknown {
  if (text === null) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined; // only the runtime writes it, as JSON; a hand-edited row reads as no result
  }
}

/** Waits `ms`, or until `signal` aborts. */
export function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
