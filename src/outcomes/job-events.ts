import type { OutcomeEvent, OutcomeKind, OutcomeReader } from '../stores/store.js';
import type { JsonValue } from '../values/json.js';
import { type OutcomeStoreOption, outcomeReader, parseResult, pause } from './outcome-source.js';

// jobEvents(): follows the events every runtime's results (and recoveries) write into the store,
// from any process. Each was written in the transaction or script of the change it tells of, so
// none is lost with a crashed runtime and none exists for a result refused as stale. A follower
// polls by event id; `since` resumes after an event it saw.
// On MySQL ids are taken at insert but seen at commit, so a later id can be seen first: the
// ids skipped are read again for GAP_WAIT_MS (a results transaction lasts milliseconds), then
// taken for ids a rolled-back insert used. Per job the order always holds.

const PAGE = 500;
const GAP_WAIT_MS = 10_000;
/** Gaps followed at most: a jump wider than this (pruned events, a restart from an old id) is not a gap. */
const MAX_GAPS = 2_000;

export interface JobEvent {
  /** Pass it back as `since` to resume after this event. */
  id: string;
  type: OutcomeKind;
  jobId: number;
  handler: string;
  queue: string;
  /** The run this tells of, 1 for the first. */
  attempt: number;
  /** Run time, ms; null when its runtime died during the run (recovery). */
  durationMs: number | null;
  /** failed, retrying: the error text. */
  error: string | null;
  /** completed: the JSON value run() returned, if any. */
  result?: JsonValue;
  at: Date;
}

export interface JobEventsOptions {
  /** Only these queues' events. */
  queues?: string[];
  /** Resume after this event id; '0': from the oldest kept. Default: events from now on. */
  since?: string;
  /** Idle poll interval, ms (default 100). */
  pollMs?: number;
  /** Ends the iteration. */
  signal?: AbortSignal;
  /** The store to read (default: the one dispatches go to). */
  store?: OutcomeStoreOption;
}

export async function* jobEvents(options: JobEventsOptions = {}): AsyncGenerator<JobEvent, void, undefined> {
  const reader = await outcomeReader(options.store, 'jobEvents()');
  const pollMs = options.pollMs ?? 100;
  const follow = new Follower(reader, options.since ?? (await reader.lastEventId()) ?? '0', options.queues ?? null);
  while (!options.signal?.aborted) {
    let page: OutcomeEvent[];
    let full: boolean;
    try {
      ({ events: page, full } = await follow.next());
    } catch (e) {
      if ((e as Error).name !== 'StoreUnavailableError') throw e;
      await pause(1_000, options.signal); // the store is down: keep following once it is back
      continue;
    }
    for (const e of page) yield toJobEvent(e);
    if (!full) await pause(pollMs, options.signal);
  }
}

class Follower {
  /** Numeric ids skipped and not seen yet → when they were first missed (idsCommitOutOfOrder stores only). */
  private readonly gaps = new Map<number, number>();

  constructor(
    private readonly reader: OutcomeReader,
    private cursor: string,
    private readonly queues: string[] | null,
  ) {}

  async next(): Promise<{ events: OutcomeEvent[]; full: boolean }> {
    const now = performance.now();
    for (const [id, since] of this.gaps) if (now - since > GAP_WAIT_MS) this.gaps.delete(id);
    const alsoIds = this.gaps.size ? [...this.gaps.keys()].map(String) : undefined;
    const page = await this.reader.outcomeEvents({ after: this.cursor, queues: this.queues, limit: PAGE, ...(alsoIds ? { alsoIds } : {}) });
    const full = page.events.length - (alsoIds?.length ?? 0) >= PAGE;
    if (!this.reader.idsCommitOutOfOrder) {
      this.cursor = page.cursor ?? this.cursor;
      return { events: page.events, full };
    }
    const before = Number(this.cursor);
    const fresh: OutcomeEvent[] = [];
    let expected = before + 1;
    for (const e of page.events) {
      const n = Number(e.id);
      if (n <= before) {
        if (this.gaps.delete(n)) fresh.push(e); // a skipped id, committed since
        continue;
      }
      // With a queue filter the ids between are other queues' events, not gaps.
      if (!this.queues && n - expected <= MAX_GAPS) for (let g = expected; g < n && this.gaps.size < MAX_GAPS; g++) this.gaps.set(g, now);
      expected = n + 1;
      fresh.push(e);
    }
    this.cursor = page.cursor ?? this.cursor;
    return { events: fresh, full };
  }
}

function toJobEvent(e: OutcomeEvent): JobEvent {
  const result = parseResult(e.result) as JsonValue | undefined;
  return {
    id: e.id,
    type: e.kind,
    jobId: e.jobId,
    handler: e.handler,
    queue: e.queue,
    attempt: e.attempt,
    durationMs: e.durationMs,
    error: e.error,
    ...(result !== undefined ? { result } : {}),
    at: e.at,
  };
}
