// Which jobs may share one message to a thread. A message costs more than a no-op job (about
// 50 µs against a few), so short jobs travel in batches; but the jobs of a batch run one after
// another on the thread that took it, so a batch holds only a few milliseconds of expected work,
// judged from each handler's measured run time. A handler not measured yet goes alone, and a job
// that runs far longer than its handler's estimate has the rest of its batch taken back (pool-watch).

/** The expected work one batch may hold. */
export const BATCH_WORK_MS = 2;
export const MAX_BATCH = 64;

export class BatchPlanner {
  /** Smoothed run time per handler, in ms. */
  private readonly estimates = new Map<string, number>();

  observe(handler: string, durationMs: number): void {
    const old = this.estimates.get(handler);
    // Up at once (a handler that became slow must stop sharing batches), down gradually.
    this.estimates.set(handler, old === undefined || durationMs > old ? durationMs : old * 0.8 + durationMs * 0.2);
  }

  /**
   * Cuts jobs (in their order) into batches: consecutive jobs while their expected work fits,
   * at most MAX_BATCH, and no more than an even share, so that `threads` threads all get work.
   */
  cut<T extends { task: { handler: string } }>(jobs: T[], threads: number): T[][] {
    const share = jobs.length <= threads ? 1 : Math.min(MAX_BATCH, Math.ceil(jobs.length / (threads * 2)));
    const batches: T[][] = [];
    let batch: T[] = [];
    let work = 0;
    for (const job of jobs) {
      const expected = this.estimates.get(job.task.handler) ?? Number.POSITIVE_INFINITY;
      if (batch.length > 0 && (batch.length >= share || work + expected > BATCH_WORK_MS)) {
        batches.push(batch);
        batch = [];
        work = 0;
      }
      batch.push(job);
      work += expected;
    }
    if (batch.length > 0) batches.push(batch);
    return batches;
  }
}
