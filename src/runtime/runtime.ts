import type { ClaimedJob, JobId, JobRef } from '../stores/store.js';
import type { JobTask, JobTaskResult } from '../execution/thread-protocol.js';
import { ResultWriter } from './result-writer.js';
import { StoreHealth } from './store-health.js';
import { RuntimeShutdown } from './runtime-shutdown.js';
import { ClaimPacer } from './claim-pacer.js';
import { LoopSleep } from './loop-sleep.js';
import { WakeUpGathering } from './wake-up-gathering.js';
import { outcomeOf, reportDropped } from './job-outcome.js';
import type { RunSummary, RuntimeOptions } from './runtime-options.js';

export type { RunSummary, RuntimeEvents, RuntimeOptions } from './runtime-options.js';

// The master's loop: claim due jobs in batches sized to what the threads can start soon, hand
// them to the executor, and record results in batches. It knows only the store interface.
// How wake-ups pace its claims: wake-up-gathering.ts; how a run ends: runtime-shutdown.ts.

export class Runtime {
  private readonly waiting: ClaimedJob[] = [];
  /** Running claims by job id: a job claimed again while its older claim still runs waits for it. */
  private readonly running = new Map<JobId, ClaimedJob>();
  private readonly writer: ResultWriter;
  private readonly shutdown: RuntimeShutdown;
  private readonly health: StoreHealth;
  private readonly pacer: ClaimPacer;
  private readonly loopSleep = new LoopSleep();
  private readonly wakeUps = new WakeUpGathering();
  private readonly summary: RunSummary = { completed: 0, failed: 0, retried: 0, released: 0, dropped: 0 };
  private stopping = false;
  private claimedTotal = 0;
  /** A claim failed: it may still have committed, so its jobs must be given back before the next. */
  private claimUncertain = false;
  private readySent = false;
  /** Peers may presume this runtime dead (its beats do not get through): it claims nothing. */
  private fenced = false;
  /** With --stop-when-empty, retries this runtime scheduled are waited for: they are its work. */
  private retriesDueBy = 0;

  constructor(private readonly o: RuntimeOptions) {
    this.pacer = new ClaimPacer(o.pollMs, o.batch);
    this.health = new StoreHealth(o.log, o.storeUrl);
    this.writer = new ResultWriter(
      o.queue,
      o.owner,
      { keepCompleted: o.keepCompleted, keepOutcomes: o.keepOutcomes === true },
      {
        storeDown: (e, pending) => this.health.down(e, `${pending} result(s) kept in memory until it is back`),
        dropped: (results) => {
          this.summary.dropped += results.length;
          reportDropped(this.o.log, results);
        },
        storeUp: () => this.health.up(),
      },
    );
    this.shutdown = new RuntimeShutdown(o, { waiting: this.waiting, running: this.running }, this.writer, this.health, this.summary);
  }

  /** Runs until stop() (or, with stopWhenEmpty, until no job is due and none is running). */
  async run(): Promise<RunSummary> {
    await this.claimLoop();
    await this.shutdown.finish();
    return { ...this.summary };
  }

  /** Graceful stop: claim no more, give back unstarted jobs, let running ones finish. */
  stop(): void {
    if (this.stopping) return;
    this.stopping = true;
    this.wake();
  }

  /**
   * A wake-up named a dispatched job. While nothing else is due (the last claim came back
   * short), the next claim takes it by id, one round trip without searching the queue, and the
   * usual claim follows WAKE_CLAIM_GAP_MS later (wake-up-gathering.ts): a job due before it waits
   * that much longer at most.
   */
  woken(id: JobId): void {
    this.wakeUps.woken(id);
  }

  /** While peers may presume this runtime dead it claims nothing (heartbeat.ts); lifted once a beat gets through. */
  setFenced(fenced: boolean): void {
    this.fenced = fenced;
    if (!fenced) this.wake();
  }

  /** Ends the poll sleep early (a dispatch signalled new work, or stop). */
  wake(): void {
    this.loopSleep.wake();
  }

  /** A wake-up announced a dispatch: wakes the loop, and tells a lone wake-up from a trickle (WakeUpGathering.gather). */
  wokenUp(): void {
    this.wakeUps.wokenUp();
    this.wake();
  }

  /** For heartbeats and status. */
  stats(): { jobsDone: number; jobsFailed: number; busyThreads: number } {
    return {
      jobsDone: this.summary.completed,
      jobsFailed: this.summary.failed,
      busyThreads: Math.min(this.running.size, this.o.executor.slots),
    };
  }

  /** Jobs this runtime holds now: running, claimed and not started, finished with the result not yet written. */
  heldJobs(): { running: JobId[]; waiting: JobId[]; unwritten: JobId[] } {
    return { running: [...this.running.keys()], waiting: this.waiting.map((j) => j.id), unwritten: this.writer.pendingRefs().map((r) => r.id) };
  }

  get inFlight(): number {
    return this.running.size + this.waiting.length;
  }

  private target(): number {
    return this.pacer.target(this.o.executor.slots);
  }

  private async claimLoop(): Promise<void> {
    while (!this.stopping) {
      if (this.fenced) {
        await this.sleep(this.o.pollMs);
        continue;
      }
      const want = this.target() - this.inFlight;
      const threadIdle = this.waiting.length === 0 && this.running.size < this.o.executor.slots;
      if (want <= 0 || (want < this.target() / 4 && !threadIdle)) {
        await this.sleep(null); // woken when jobs finish
        continue;
      }
      const drained = this.stopWhenEmptyReady();
      const budget = this.o.maxJobs === null ? Infinity : this.o.maxJobs - this.claimedTotal;
      if (budget <= 0) {
        // Every job claimed within the budget runs: the drain starts once they are done.
        if (this.inFlight === 0) this.o.events.maxJobsReached();
        await this.sleep(null);
        continue;
      }
      if (this.claimUncertain && !(await this.giveBackUncertainClaim())) continue;
      let jobs: ClaimedJob[];
      const limit = Math.min(want, this.o.batch, budget);
      const ids = this.wakeUps.idsToClaim(limit);
      const claimStart = performance.now();
      this.wakeUps.claimSent(claimStart);
      this.pacer.claimSent();
      try {
        const { owner, queues } = this.o;
        jobs = ids.length > 0 ? await this.o.queue.claimByIds({ owner, queues, ids }) : await this.o.queue.claim({ owner, queues, limit });
        this.claimedTotal += jobs.length;
        this.o.events.claimed?.(jobs.length);
        this.health.up();
        if (!this.readySent) {
          this.readySent = true;
          this.o.events.ready();
        }
      } catch (e) {
        // The claim may have committed with its reply lost: what it took is given back first.
        this.claimUncertain = true;
        this.health.down(e, 'claiming stopped until it is back');
        await this.sleep(this.health.backoffMs());
        continue;
      }
      if (this.stopping) {
        this.waiting.push(...jobs);
        break;
      }
      this.waiting.push(...jobs);
      this.feed();
      if (jobs.length === 0 && drained && ids.length === 0) return;
      this.pacer.claimed(jobs.length, limit, performance.now() - claimStart);
      if (ids.length > 0) {
        // The usual claim follows (other jobs may be due too) once the gap has passed: it also
        // takes the jobs whose wake-ups come meanwhile (WakeUpGathering.gather), and by then the
        // pool has long sent this job on its way (sent first, it held the thread's start back ~0.8 ms).
        await this.wakeUps.gather(this.stopping);
        continue;
      }
      this.wakeUps.caughtUp = jobs.length < limit;
      if (jobs.length < want) {
        // Nothing more is due: poll later, or claim when a wake-up announces a dispatch.
        const woken = await this.sleep(this.pacer.nextPollMs());
        if (woken) await this.wakeUps.gather(this.stopping);
      }
    }
  }

  /** Gives back jobs a failed claim may have taken; false (after a backoff) while the store is away. */
  private async giveBackUncertainClaim(): Promise<boolean> {
    try {
      // Still ours: running, waiting, or finished with the result not written yet.
      const held: JobRef[] = [...this.running.values(), ...this.waiting, ...this.writer.pendingRefs()];
      const n = await this.o.queue.releaseUnheld({ owner: this.o.owner, held });
      this.claimUncertain = false;
      this.health.up();
      if (n > 0) this.o.log.warn(`Gave back ${n} job(s) taken by a claim whose reply was lost`);
      return true;
    } catch (e) {
      this.health.down(e, 'claiming stopped until it is back');
      await this.sleep(this.health.backoffMs());
      return false;
    }
  }

  /** With --stop-when-empty: nothing in hand, every result written, and no retry of ours still to come. */
  private stopWhenEmptyReady(): boolean {
    return this.o.stopWhenEmpty && this.inFlight === 0 && this.writer.pending === 0 && Date.now() >= this.retriesDueBy;
  }

  /**
   * Hands claimed jobs to the pool. Fast jobs all go at once (the pool's queue keeps every thread
   * busy, and batches them); slow ones only as threads free up: the one queued behind each
   * running job stays here, so on a stop it goes back at once instead of waiting for a thread.
   */
  private feed(): void {
    const poolCap = Math.max(this.o.executor.slots, this.target() - this.o.executor.slots);
    while (this.running.size < poolCap) {
      // Never two runs of one job here: a newer claim of a job whose older claim still runs
      // (this runtime was presumed dead meanwhile) starts once that run is over.
      const next = this.waiting.findIndex((j) => !this.running.has(j.id));
      if (next < 0) return;
      const job = this.waiting.splice(next, 1)[0]!;
      this.running.set(job.id, job);
      const task = this.taskOf(job);
      this.o.executor.run(task, job.timeoutMs ?? this.o.timeoutMs).then((r) => this.finished(job, r));
    }
  }

  /**
   * A row of a PHP class taken over (Lightpack dispatched it) runs as its Node job file: an
   * empty PHP payload (json_encode's `[]`) is `{}`, and the thread takes attempts and the retry
   * wait from the Node class, since Lightpack stores neither.
   */
  private taskOf(job: ClaimedJob): JobTask {
    const task: JobTask = {
      id: job.id,
      handler: job.handler,
      queue: job.queue,
      runtimeId: this.o.owner,
      payload: job.payload,
      attempts: job.attempts,
      maxAttempts: job.maxAttempts,
      scheduledAtMs: job.scheduledAtMs,
    };
    const mapped = this.o.takeOver.get(job.handler);
    if (mapped === undefined) return task;
    return { ...task, handler: mapped, payload: job.payload.trim() === '[]' ? '{}' : job.payload, settingsFromClass: true };
  }

  private finished(job: ClaimedJob, r: JobTaskResult): void {
    // Not running any more: given back when the grace period ended; its result no longer counts.
    if (this.running.get(job.id) !== job) return;
    this.running.delete(job.id);
    if (r.skipped) {
      // Not started before the shutdown: given back, uncharged, once the pool has handed back all such.
      this.shutdown.handedBackUnrun(job);
      if (this.inFlight === 0) this.shutdown.idle();
      return;
    }
    this.pacer.jobFinished();
    const { result, report } = outcomeOf(job, r, this.o.log, this.summary);
    if (result.outcome === 'retry') this.retriesDueBy = Math.max(this.retriesDueBy, Date.now() + result.delayMs);
    this.o.events.jobFinished?.(job, result.outcome, r.durationMs);
    // Its ✔ or ✖ line is written once the store has the result: the log and the table agree.
    this.writer.add({ result, recorded: report });
    if (!this.stopping) this.feed();
    if (this.inFlight === 0) this.shutdown.idle();
    // Room for more: claim now, unless the store had nothing due (then the poll timer decides).
    if (this.loopSleep.sleepingForRoom) this.wake();
    if (this.o.stopWhenEmpty && this.inFlight === 0) this.writer.drain().then(() => this.wake());
  }

  /** Sleeps until woken, or for `ms` (null: until a job finishes or stop); true when woken before the time. */
  private sleep(ms: number | null): Promise<boolean> {
    return this.stopping ? Promise.resolve(true) : this.loopSleep.sleep(ms);
  }
}
