import { assertPayloadSize } from '../values/payload.js';
import type { JobId, NewJob } from '../stores/store.js';

// What the sync: and null: engines share: ids and a payload limit, as a real store has.

// No store is behind them, so no store's limit applies; this one matches the Redis store's, so
// a payload accepted here is not absurd anywhere.
const MAX_PAYLOAD_BYTES = 64 * 1024 * 1024;

/** Ids ascend per engine instance, as a real store's do, so callers can tell jobs apart. */
export class InlineIds {
  private last = 0;

  next(): JobId {
    return ++this.last;
  }

  readonly maxPayloadBytes = async (): Promise<number> => MAX_PAYLOAD_BYTES;
}

export function checkInlinePayloads(jobs: NewJob[], engine: string): void {
  for (const j of jobs) assertPayloadSize(j.payload, MAX_PAYLOAD_BYTES, engine);
}
