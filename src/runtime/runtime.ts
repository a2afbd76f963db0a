import type { ClaimedJob, JobId, JobRef } from '../stores/store.js';
import type { JobTask, JobTaskResult } from '../execution/thread-protocol.js';
import { ResultWriter } from './result-writer.js';
import { StoreHealth } from './store-health.js';
import { ClaimPacer } from './claim-pacer.js';
import { LoopSleep } from './loop-sleep.js';
import { afterLong } from './long-timers.js';
import { outcomeOf, reportDropped } from './job-outcome.js';
import type { RunSummary, RuntimeOptions } from './runtime-options.js';

export type { RunSummary, RuntimeEvents, RuntimeOptions } from './runtime-options.js';

/** Least time from one claim to a claim asked for by a wake-up that came alone (see gatherWakeUps). */
const WAKE_CLAIM_GAP_MS = 8;
/** Least time from one claim to a claim asked for by wake-ups that keep coming. */
const TRICKLE_CLAIM_GAP_MS = 25;
/** Wake-ups closer than this to the one before are a trickle. */
const QUIET_MS = 10;

// The master's loop: claim due jobs in batches sized to what the threads can start soon, hand
// them to the executor, and record results in batches. It knows only the store interface.

export class Runtime {
  private readonly waiting: ClaimedJob[] = [];
  /** Running claims by job id: a job claimed again while its older claim still runs waits for it. */
  private readonly running = new Map<JobId, ClaimedJob>();
  private readonly writer: ResultWriter;
  private readonly health: StoreHealth;
  private readonly pacer: ClaimPacer;
  private readonly loopSleep = new LoopSleep();
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
  private idleWaiters: Array<() => void> = [];
  /** Jobs the pool handed back unrun during shutdown. */
  private readonly unrun: JobRef[] = [];
  /** Ids wake-ups announced since the last claim (see woken()). */
  private readonly wokenIds = new Set<JobId>();
  /** The last claim got less than it asked for: as far as this runtime knows, nothing else is due. */
  private caughtUp = false;
  /** When the last claim was sent (performance.now()): wake-ups soon after it wait for the next (gatherWakeUps). */
  private lastClaimSentAt = Number.NEGATIVE_INFINITY;
  /** The next claim is a usual one: it follows a claim by id, or gathers several wake-ups. */
  private gathering = false;
  /** When the last wake-up came, and whether it came within QUIET_MS of the one before. */
  private lastWakeUpAt = Number.NEGATIVE_INFINITY;
  private trickling = false;

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
  }

  /** Runs until stop() (or, with stopWhenEmpty, until no job is due and none is running). */
  async run(): Promise<RunSummary> {
    await this.claimLoop();
    await this.finish();
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
   * usual claim follows WAKE_CLAIM_GAP_MS later: a job due before it waits that much longer at most.
   */
  woken(id: JobId): void {
    if (this.wokenIds.size < 64) this.wokenIds.add(id);
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

  /** A wake-up announced a dispatch: wakes the loop, and tells a lone wake-up from a trickle (gatherWakeUps). */
  wokenUp(): void {
    const now = performance.now();
    this.trickling = now - this.lastWakeUpAt < QUIET_MS;
    this.lastWakeUpAt = now;
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
      // By id only for a wake-up claimed at once: gathered ones, or the claim that follows one by id, take them all.
      const ids = this.caughtUp && !this.gathering ? [...this.wokenIds].slice(0, limit) : [];
      this.wokenIds.clear();
      this.gathering = ids.length > 0;
      const claimStart = performance.now();
      this.lastClaimSentAt = claimStart;
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
        // takes the jobs whose wake-ups come meanwhile (gatherWakeUps), and by then the pool has
        // long sent this job on its way (sent first, it held the thread's start back ~0.8 ms).
        await this.gatherWakeUps();
        continue;
      }
      this.caughtUp = jobs.length < limit;
      if (jobs.length < want) {
        // Nothing more is due: poll later, or claim when a wake-up announces a dispatch.
        const woken = await this.sleep(this.pacer.nextPollMs());
        if (woken) await this.gatherWakeUps();
      }
    }
  }

  /**
   * Under a steady trickle of dispatches every wake-up would be a claim of a job or two, and each
   * claim costs the runtime (and the store) about as much CPU as running dozens of jobs from a
   * backlog (a claim on MariaDB here: ~1 ms of the runtime's CPU, mostly socket writes). So a claim
   * asked for by wake-ups waits until some time has passed since the previous claim was sent, and
   * the wake-ups of that window (and those that came while the previous claim was in flight) share
   * one usual claim, which takes every job they announced:
   * - a wake-up that comes alone (none in the QUIET_MS before it: an idle runtime, W2's one
   *   dispatch per 20 ms) waits only for WAKE_CLAIM_GAP_MS after the last claim, which has
   *   passed already; it is claimed at once, by id where the store can, as before;
   * - wake-ups that keep coming closer than that (a web app dispatching hundreds a second) are
   *   claimed at most every TRICKLE_CLAIM_GAP_MS: at most 40 claims a second at any rate, each job
   *   waiting up to that long more.
   */
  private async gatherWakeUps(): Promise<void> {
    const gap = this.trickling ? TRICKLE_CLAIM_GAP_MS : WAKE_CLAIM_GAP_MS;
    const waitMs = this.lastClaimSentAt + gap - performance.now();
    if (waitMs <= 0 || this.stopping) return;
    this.gathering = true;
    await new Promise((r) => setTimeout(r, waitMs));
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
      this.unrun.push(job);
      if (this.inFlight === 0) for (const w of this.idleWaiters.splice(0)) w();
      return;
    }
    this.pacer.jobFinished();
    const { result, report } = outcomeOf(job, r, this.o.log, this.summary);
    if (result.outcome === 'retry') this.retriesDueBy = Math.max(this.retriesDueBy, Date.now() + result.delayMs);
    this.o.events.jobFinished?.(job, result.outcome, r.durationMs);
    // Its ✔ or ✖ line is written once the store has the result: the log and the table agree.
    this.writer.add({ result, recorded: report });
    if (!this.stopping) this.feed();
    if (this.inFlight === 0) for (const w of this.idleWaiters.splice(0)) w();
    // Room for more: claim now, unless the store had nothing due (then the poll timer decides).
    if (this.loopSleep.sleepingForRoom) this.wake();
    if (this.o.stopWhenEmpty && this.inFlight === 0) this.writer.drain().then(() => this.wake());
  }

  /** Sleeps until woken, or for `ms` (null: until a job finishes or stop); true when woken before the time. */
  private sleep(ms: number | null): Promise<boolean> {
    return this.stopping ? Promise.resolve(true) : this.loopSleep.sleep(ms);
  }

  private async finish(): Promise<void> {
    // Jobs claimed but never started go back at once, their attempt not charged: those still
    // here, and those queued in the pool, which now return unrun.
    this.o.executor.refuseNewTasks();
    const unstarted = this.waiting.splice(0);
    if (unstarted.length > 0) await this.releaseJobs(unstarted);
    await new Promise((r) => setImmediate(r)); // queued tasks come back within a turn or two
    await this.releaseUnrun();
    if (this.running.size > 0) {
      this.o.log.info(`Waiting up to ${Math.round(this.o.graceMs / 1000)} s for ${this.running.size} running job(s) to finish`);
      const allDone = new Promise<void>((r) => this.idleWaiters.push(r));
      const timedOut = await Promise.race([allDone.then(() => false), delay(this.o.graceMs).then(() => true)]);
      if (timedOut && this.running.size > 0) {
        const claims = [...this.running.values()];
        this.o.log.warn(`Grace period over: stopping ${claims.length} running job(s) and giving them back`);
        this.running.clear();
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
