import type { ClaimedJob, JobId, JobRef } from '../stores/store.js';
import { afterLong } from './long-timers.js';
import type { ResultWriter } from './result-writer.js';
import type { RunSummary, RuntimeOptions } from './runtime-options.js';
import type { StoreHealth } from './store-health.js';

// The end of a runtime's run, once its claim loop has stopped: the jobs it claimed and did not
// start go back at once, running ones get --grace to finish, those still running then are stopped
// and given back, and every result is written before run() returns.

/** The runtime's own collections of the jobs it holds, read and emptied here in place. */
export interface HeldClaims {
  readonly waiting: ClaimedJob[];
  readonly running: Map<JobId, ClaimedJob>;
}

export class RuntimeShutdown {
  /** Jobs the pool handed back unrun during shutdown. */
  private readonly unrun: JobRef[] = [];
  private idleWaiters: Array<() => void> = [];

  constructor(
    private readonly o: Pick<RuntimeOptions, 'queue' | 'owner' | 'executor' | 'log' | 'graceMs'>,
    private readonly held: HeldClaims,
    private readonly writer: ResultWriter,
    private readonly health: StoreHealth,
    private readonly summary: RunSummary,
  ) {}

  /** The pool handed `job` back unrun: given back with the others, its attempt not charged. */
  handedBackUnrun(job: JobRef): void {
    this.unrun.push(job);
  }

  /** The runtime holds no job any more: the wait for running jobs is over. */
  idle(): void {
    for (const w of this.idleWaiters.splice(0)) w();
  }

  async finish(): Promise<void> {
    // Jobs claimed but never started go back at once, their attempt not charged: those still
    // here, and those queued in the pool, which now return unrun.
    this.o.executor.refuseNewTasks();
    const unstarted = this.held.waiting.splice(0);
    if (unstarted.length > 0) await this.releaseJobs(unstarted);
    await new Promise((r) => setImmediate(r)); // queued tasks come back within a turn or two
    await this.releaseUnrun();
    if (this.held.running.size > 0) {
      this.o.log.info(`Waiting up to ${Math.round(this.o.graceMs / 1000)} s for ${this.held.running.size} running job(s) to finish`);
      const allDone = new Promise<void>((r) => this.idleWaiters.push(r));
      const timedOut = await Promise.race([allDone.then(() => false), delay(this.o.graceMs).then(() => true)]);
      if (timedOut && this.held.running.size > 0) {
        const claims = [...this.held.running.values()];
        this.o.log.warn(`Grace period over: stopping ${claims.length} running job(s) and giving them back`);
        this.held.running.clear();
        await this.o.executor.close();
        await this.releaseJobs(claims);
      }
    }
    await this.releaseUnrun();
    await this.writer.drain();
  }

  private async releaseUnrun(): Promise<void> {
    const claims = this.unrun.splice(0);
    if (claims.length > 0) await this.releaseJobs(claims);
  }

  private async releaseJobs(claims: JobRef[]): Promise<void> {
    const jobs = claims.map(({ id, token }) => ({ id, token }));
    for (;;) {
      try {
        this.summary.released += await this.o.queue.release({ owner: this.o.owner, jobs });
        return;
      } catch (e) {
        this.health.down(e, `${jobs.length} unstarted job(s) to give back`);
        await delay(this.health.backoffMs());
      }
    }
  }
}

/** Resolves after `ms`, however long (--grace may be days); keeps no process alive. */
function delay(ms: number): Promise<void> {
  return new Promise((r) => afterLong(ms, r));
}
