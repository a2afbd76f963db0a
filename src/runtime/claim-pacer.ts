import { ThroughputMeter } from './throughput-meter.js';

// How much the claim loop holds, and how often it polls: both follow the pace jobs finish at.

// Claim enough for this long of work at the current rate: big batches when jobs are fast,
// no hoarding when they are slow (another runtime may be idle). Jobs of up to ~100 ms get one
// queued behind each running one, so a thread that finishes starts the next at once instead
// of waiting for a claim's round trip.
const LOOKAHEAD_S = 0.1;
/** How much faster than --sleep polls may get while they keep finding jobs. */
const POLL_SPEEDUP = 10;
/** How fast claims of fast jobs grow per round trip to a distant store (see slowStart). */
const SLOW_START_FACTOR = 8;

export class ClaimPacer {
  private readonly meter = new ThroughputMeter();
  /** The poll interval now: --sleep when idle, shorter while polls keep finding jobs. */
  private currentPollMs: number;
  /** Claims since the last poll sleep found jobs. */
  private foundSincePoll = false;
  /** How long claims take to come back, smoothed (ms): the link to the store is part of the lookahead. */
  private claimMs = 0;
  /** Jobs finished while the claim in flight was out: what the link's latency cost. */
  private finishedDuringClaim = 0;
  /**
   * Slow start: after a full claim, hold SLOW_START_FACTOR times as many jobs as finished while
   * it was out. The smoothed rate alone needs many round trips to catch up when each takes 100 ms
   * or more (a distant store); a claim that comes back in a millisecond, or slow jobs (none done
   * within a round trip), leave it at nothing, so nearby stores and slow jobs are never hoarded.
   */
  private slowStart = 0;

  constructor(
    private readonly pollMs: number,
    private readonly batch: number,
  ) {
    this.currentPollMs = pollMs;
  }

  jobFinished(): void {
    this.meter.tick();
    this.finishedDuringClaim++;
  }

  claimSent(): void {
    this.finishedDuringClaim = 0;
  }

  /**
   * Jobs to hold (running and waiting) with `slots` free to run them: enough for LOOKAHEAD_S of
   * work plus the time a claim takes to come back. Without the second term a store 50 ms away
   * (two round trips per claim) capped claims at the slot count, and the rate never grew.
   */
  target(slots: number): number {
    const aheadS = LOOKAHEAD_S + this.claimMs / 1000;
    return Math.max(slots, this.slowStart, Math.min(this.batch, Math.ceil(this.meter.perSecond() * aheadS)));
  }

  /** A claim that asked for `asked` jobs came back with `count` after `tookMs`. */
  claimed(count: number, asked: number, tookMs: number): void {
    if (count > 0) this.foundSincePoll = true;
    this.claimMs = this.claimMs === 0 ? tookMs : this.claimMs * 0.8 + tookMs * 0.2;
    // A short claim: nothing more is due, so there is nothing to ramp up to.
    // Halved when a claim finds fewer done meanwhile, so a turn to slow jobs ends it in a few claims.
    this.slowStart = count < asked ? 0 : Math.min(this.batch, Math.max(Math.floor(this.slowStart / 2), SLOW_START_FACTOR * this.finishedDuringClaim));
  }

  /**
   * After a claim that got less than it asked for (nothing more is due): when to poll next.
   * Whether this poll round found work counts all its claims: the last one comes back empty
   * when the one before took exactly what was left. The interval adapts to arrivals that no
   * wake-up announced (dispatches from another host): a poll that found jobs makes the next come
   * after a tenth of --sleep, so while they keep arriving they wait about 50 ms instead of 500
   * on average; each empty poll doubles the interval back, up to --sleep (idle: one query per --sleep).
   */
  nextPollMs(): number {
    const found = this.foundSincePoll;
    this.foundSincePoll = false;
    this.currentPollMs = found ? this.pollMs / POLL_SPEEDUP : Math.min(this.pollMs, this.currentPollMs * 2);
    return this.currentPollMs;
  }
}
