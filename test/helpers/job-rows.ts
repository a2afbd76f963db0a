import type { ClaimedJob, JobId, JobRef, JobStore, NewJob } from '../../src/stores/store.ts';

// Job rows for tests that write to a store directly: the row a plain dispatch writes, the claims
// that results and releases name, and rows put in a known state (failed, completed) through the
// store API.

/** The fields a test sets; a `payload` that is not a string is JSON-encoded (a string is taken as written JSON). */
export type JobRowFields = Omit<Partial<NewJob>, 'payload'> & { payload?: unknown };

/** A job row as a plain dispatch writes it: handler Ok on queue default, due now, one attempt, no timeout. */
export function jobRow(fields: JobRowFields = {}): NewJob {
  const { payload = {}, ...rest } = fields;
  return {
    handler: 'Ok',
    queue: 'default',
    delayMs: 0,
    maxAttempts: 1,
    retryAfterMs: 0,
    timeoutMs: null,
    ...rest,
    payload: typeof payload === 'string' ? payload : JSON.stringify(payload),
  };
}

/** The claims (id and fencing token) of claimed jobs, by id: for results and releases in store-level tests. */
export function claimsById(claimed: ClaimedJob[]): (id: JobId) => JobRef {
  const tokens = new Map(claimed.map((c) => [c.id, c.token]));
  return (id) => {
    const token = tokens.get(id);
    if (token === undefined) throw new Error(`job ${id} was not claimed`);
    return { id, token };
  };
}

/** Enqueues one job per handler on `queue`, claims them as `owner` and records each as failed. */
export async function failJobs(store: JobStore, queue: string, handlers: string[], owner = 'test-owner'): Promise<JobId[]> {
  const ids = await store.producer.enqueue({
    jobs: handlers.map((handler) => jobRow({ queue, handler, payload: { to: `${handler}@example.com` } })),
  });
  const claimed = await store.queue.claim({ owner, queues: [queue], limit: ids.length });
  if (claimed.length !== ids.length) throw new Error(`claimed ${claimed.length} of ${ids.length} on ${queue}: is the queue shared?`);
  const claim = claimsById(claimed);
  await store.queue.record({
    owner,
    results: ids.map((id) => ({ ...claim(id), queue, outcome: 'failed' as const, error: `Error: job ${id} failed\n    at run (job.ts:3:11)` })),
  });
  return ids;
}

/** Claims and completes `n` new jobs on `queue` (the rows are deleted; the throughput counters keep them). */
export async function completeJobs(store: JobStore, queue: string, n: number, keepCompleted = false): Promise<JobId[]> {
  const ids = await store.producer.enqueue({ jobs: Array.from({ length: n }, () => jobRow({ queue })) });
  const claim = claimsById(await store.queue.claim({ owner: 'test-owner', queues: [queue], limit: n }));
  await store.queue.record({ owner: 'test-owner', results: ids.map((id) => ({ ...claim(id), queue, outcome: 'completed' as const })), keepCompleted });
  return ids;
}
