import type { JobOutcomeState } from './rows.js';

/** A job row's status, as waitFor's timeout message tells it (every store maps its rows by this). */
export function stateOf(status: string | undefined | null): JobOutcomeState['state'] {
  if (status === undefined || status === null) return 'unknown';
  if (status === 'processing') return 'running';
  if (status === 'completed' || status === 'failed') return 'ended';
  return 'waiting';
}
