// Which jobs may share one message to a thread. A message costs more than a no-op job (about
// 50 µs against a few), so short jobs travel in batches; but the jobs of a batch run one after
// another on the thread that took it, so a batch holds only a few milliseconds of expected work,
// judged from each handler's measured run time. A handler not measured yet goes alone, and a job
// that runs far longer than its handler's estimate has the rest of its batch taken back (pool-watch).
// A batch ends at a job whose result has details (a failure, warnings), and the rest is sent
// again: so a handler whose runs often end that way travels alone too.

/** The expected work one batch may hold. */
export const BATCH_WORK_MS = 2;
export const MAX_BATCH = 64;
/** Above this share of runs with details, a handler's jobs travel alone. */
const DETAILED_ALONE = 0.1;

export class BatchPlanner {
  /** Smoothed run time per handler, in ms, and how often its runs end with details (0 to 1). */
  private readonly handlers = new Map<string, { ms: number; detailed: number }>();

  /** A run of `handler` took `durationMs`; `plain`: a success without warnings. */
  observe(handler: string, durationMs: number, plain: boolean): void {
    const old = this.handlers.get(handler);
    if (!old) return void this.handlers.set(handler, { ms: durationMs, detailed: plain ? 0 : 1 });
    // Up at once (a handler that became slow must stop sharing batches), down gradually.
    old.ms = durationMs > old.ms ? durationMs : old.ms * 0.8 + durationMs * 0.2;
    old.detailed = old.detailed * 0.8 + (plain ? 0 : 0.2);
  }

  private expected(handler: string): number {
    const h = this.handlers.get(handler);
    return h === undefined || h.detailed > DETAILED_ALONE ? Number.POSITIVE_INFINITY : h.ms;
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
      const expected = this.expected(job.task.handler);
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
