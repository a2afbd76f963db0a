import { timerMs } from './long-timers.js';

// The claim loop's one sleep: for room (until a job finishes), or because nothing is due (until
// the poll timer), ended early by wake(). A wake-up that comes while the loop is busy claiming
// is kept: the next poll sleep is skipped, so a dispatch announced meanwhile is not missed.

export class LoopSleep {
  private wakeUp: ((woken: boolean) => void) | null = null;
  private wakePending = false;
  private forRoom = false;

  /** Asleep until a job finishes: a finished job should end it. */
  get sleepingForRoom(): boolean {
    return this.wakeUp !== null && this.forRoom;
  }

  /** Sleeps until woken, or for `ms` (null: until wake()). Resolves true when wake() ended it (or came before), false when the timer did. */
  sleep(ms: number | null): Promise<boolean> {
    if (ms !== null && this.wakePending) {
      this.wakePending = false;
      return Promise.resolve(true);
    }
    this.forRoom = ms === null;
    return new Promise<boolean>((resolve) => {
      const timer = ms === null ? null : setTimeout(() => this.end(false), timerMs(ms));
      this.wakeUp = (woken) => {
        if (timer) clearTimeout(timer);
        this.forRoom = false;
        resolve(woken);
      };
    });
  }

  wake(): void {
    if (!this.end(true)) this.wakePending = true;
  }

  /** Ends the sleep in progress, if any. */
  private end(woken: boolean): boolean {
    const w = this.wakeUp;
    this.wakeUp = null;
    w?.(woken);
    return w !== null;
  }
}
