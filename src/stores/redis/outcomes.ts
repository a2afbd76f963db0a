import { stateOf } from '../outcome-state.js';
import type { JobId, JobOutcomeState, OutcomeEvent, OutcomeKind, OutcomePage, OutcomeReader } from '../store.js';
import type { RedisDatabase } from './database.js';
import { jobKey } from './keys.js';

// Reading outcome events (layout in lua/outcomes.ts): the final outcome by key, the stream by id.

export class RedisOutcomes implements OutcomeReader {
  /** Scripts run one at a time: stream ids are in commit order. */
  readonly idsCommitOutOfOrder = false;

  constructor(private readonly db: RedisDatabase) {}

  async jobOutcome(params: { id: JobId }): Promise<JobOutcomeState> {
    const p = this.db.prefix;
    const [eid, status] = await this.db.run(async (client) => {
      const res = (await client.pipeline().get(`${p}outcome:${params.id}`).hget(jobKey(p, params.id), 'status').exec()) ?? [];
      for (const [err] of res) if (err) throw err;
      return [res[0]?.[1] as string | null, res[1]?.[1] as string | null];
    });
    if (eid) {
      // The event itself, from the stream (gone only if pruned meanwhile: then not kept).
      const [entry] = (await this.db.run((client) => client.xrange(`${p}events`, eid, eid))) as Array<[string, string[]]>;
      if (entry) return { final: toEvent(entry[0], fieldsOf(entry[1])), state: 'ended' };
    }
    return { final: null, state: stateOf(status) };
  }

  async outcomeEvents(params: { after: string | null; queues?: string[] | null; limit: number }): Promise<OutcomePage> {
    const start = params.after === null ? '-' : `(${params.after}`;
    const entries = (await this.db.run((client) => client.xrange(`${this.db.prefix}events`, start, '+', 'COUNT', params.limit))) as Array<[string, string[]]>;
    const wanted = params.queues ? new Set(params.queues) : null;
    const events: OutcomeEvent[] = [];
    for (const [id, flat] of entries) {
      const fields = fieldsOf(flat);
      if (!wanted || wanted.has(fields.queue ?? '')) events.push(toEvent(id, fields));
    }
    // Filtered after reading: the cursor passes the entries left out too.
    return { events, cursor: entries.at(-1)?.[0] ?? params.after };
  }

  async lastEventId(): Promise<string | null> {
    const last = (await this.db.run((client) => client.xrevrange(`${this.db.prefix}events`, '+', '-', 'COUNT', 1))) as Array<[string, string[]]>;
    return last[0]?.[0] ?? null;
  }
}

function fieldsOf(flat: string[]): Record<string, string> {
  const fields: Record<string, string> = {};
  for (let k = 0; k + 1 < flat.length; k += 2) fields[flat[k]!] = flat[k + 1]!;
  return fields;
}

function toEvent(id: string, f: Record<string, string>): OutcomeEvent {
  return {
    id,
    kind: f.kind as OutcomeKind,
    jobId: Number(f.job),
    handler: f.handler ?? '',
    queue: f.queue ?? '',
    attempt: Number(f.attempt ?? 0),
    durationMs: f.duration === undefined ? null : Number(f.duration),
    error: f.error ?? null,
    result: f.result ?? null,
    // Stream ids are the Redis clock's ms, then a sequence.
    at: new Date(Number(id.split('-')[0])),
  };
}
