// Every store call has a deadline: a call stuck on a silent network (a cut cable drops packets,
// and TCP retransmits for minutes) fails after it instead, and its connection is destroyed so
// nothing more waits on it. The runtime then sees the store as unavailable and acts on it.

/** Most store calls: claims, results, dispatches, operator reads. Schema changes have none. */
export const CALL_DEADLINE_MS = 30_000;
/** TCP keepalive probes start after this much idle time, so a dead peer is noticed between calls too. */
export const KEEPALIVE_MS = 10_000;

export class StoreTimeoutError extends Error {
  override name = 'StoreTimeoutError';
  /** Read by the stores' connection-error checks: the connection is gone. */
  readonly code = 'ETIMEDOUT';
}

/** `work`, or a StoreTimeoutError after `ms` (then `abandon` destroys what `work` waits on). */
export async function withDeadline<T>(work: Promise<T>, ms: number | null, abandon: () => void): Promise<T> {
  if (ms === null) return work;
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      abandon();
      reject(new StoreTimeoutError(`no answer from the store within ${ms} ms`));
    }, ms);
  });
  work.catch(() => undefined); // it fails once abandoned: that failure is not ours to report
  try {
    return await Promise.race([work, expired]);
  } finally {
    clearTimeout(timer);
  }
}
