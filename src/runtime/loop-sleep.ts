import { timerMs } from './long-timers.js';

// The claim loop's one sleep: for room (until a job finishes), or because nothing is due (until
// the poll timer), ended early by wake(). A wake-up that comes while the loop is busy claiming
// is kept: the next poll sleep is skipped, so a dispatch announced meanwhile is not missed.

export class LoopSleep {
  private wakeUp: (() => void) | null = null;
  private wakePending = false;
  private forRoom = false;

  /** Asleep until a job finishes: a finished job should end it. */
  get sleepingForRoom(): boolean {
    return this.wakeUp !== null && this.forRoom;
  }

  /** Sleeps until woken, or for `ms` (null: until wake()). */
  sleep(ms: number | null): Promise<void> {
    if (ms !== null && this.wakePending) {
      this.wakePending = false;
      return Promise.resolve();
    }
    this.forRoom = ms === null;
    return new Promise<void>((resolve) => {
      const timer = ms === null ? null : setTimeout(() => this.wake(), timerMs(ms));
      this.wakeUp = () => {
        if (timer) clearTimeout(timer);
        this.forRoom = false;
        resolve();
      };
    });
  }

  wake(): void {
    const w = this.wakeUp;
    this.wakeUp = null;
    if (w) w();
    else this.wakePending = true;
  }
}
