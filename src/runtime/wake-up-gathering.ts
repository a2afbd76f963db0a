import type { JobId } from '../stores/store.js';

// When a wake-up makes the claim loop claim, and whether that claim takes the announced jobs
// by id or is a usual one (see gather).

/** Least time from one claim to a claim asked for by a wake-up that came alone (see gather). */
const WAKE_CLAIM_GAP_MS = 8;
/** Least time from one claim to a claim asked for by wake-ups that keep coming. */
const TRICKLE_CLAIM_GAP_MS = 25;
/** Wake-ups closer than this to the one before are a trickle. */
const QUIET_MS = 10;

export class WakeUpGathering {
  /** Ids wake-ups announced since the last claim (see Runtime.woken()). */
  private readonly wokenIds = new Set<JobId>();
  /** The last claim got less than it asked for: as far as this runtime knows, nothing else is due. */
  caughtUp = false;
  /** When the last claim was sent (performance.now()): wake-ups soon after it wait for the next (gather). */
  private lastClaimSentAt = Number.NEGATIVE_INFINITY;
  /** The next claim is a usual one: it follows a claim by id, or gathers several wake-ups. */
  private gathering = false;
  /** When the last wake-up came, and whether it came within QUIET_MS of the one before. */
  private lastWakeUpAt = Number.NEGATIVE_INFINITY;
  private trickling = false;

  /** A wake-up named a dispatched job: the next claim may take it by id (see Runtime.woken()). */
  woken(id: JobId): void {
    if (this.wokenIds.size < 64) this.wokenIds.add(id);
  }

  /** A wake-up announced a dispatch: tells a lone wake-up from a trickle (gather). */
  wokenUp(): void {
    const now = performance.now();
    this.trickling = now - this.lastWakeUpAt < QUIET_MS;
    this.lastWakeUpAt = now;
  }

  /** The ids the claim about to be sent takes (none: a usual claim of up to `limit` due jobs). */
  idsToClaim(limit: number): JobId[] {
    // By id only for a wake-up claimed at once: gathered ones, or the claim that follows one by id, take them all.
    const ids = this.caughtUp && !this.gathering ? [...this.wokenIds].slice(0, limit) : [];
    this.wokenIds.clear();
    this.gathering = ids.length > 0;
    return ids;
  }

  /** A claim was sent at `at` (performance.now()). */
  claimSent(at: number): void {
    this.lastClaimSentAt = at;
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
   * While the runtime is stopping it waits for nothing.
   */
  async gather(stopping: boolean): Promise<void> {
    const gap = this.trickling ? TRICKLE_CLAIM_GAP_MS : WAKE_CLAIM_GAP_MS;
    const waitMs = this.lastClaimSentAt + gap - performance.now();
    if (waitMs <= 0 || stopping) return;
    this.gathering = true;
    await new Promise((r) => setTimeout(r, waitMs));
  }
}
