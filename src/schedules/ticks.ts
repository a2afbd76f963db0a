import { Cron } from 'croner';

// When a schedule's ticks fall, on croner (a well-kept parser with IANA time zones): 5 fields,
// an optional leading 6th seconds field, and the nicknames (@hourly, @daily, …). Day of month and
// day of week combine with OR, as in Vixie cron. Daylight-saving changes, as croner treats them
// (test/schedule-ticks.test.ts pins each case):
// - a local time the clocks skip (02:30 on a spring-forward night in Europe/Paris) runs once, at
//   the first instant after the gap (03:00 local);
// - a local time that occurs twice (02:30 on the autumn night) runs once, at its first occurrence,
//   when the cron names the hour; a cron whose hour field is `*` (every 30 minutes) keeps its
//   pace in real time and so runs in both occurrences of that hour.

/** A parsed cron in a zone; cheap to keep per schedule, reused across polls. */
export class CronTicks {
  private readonly cron: Cron;

  /** Throws croner's message (e.g. "Invalid value for minute: 61") on a bad text or zone. */
  constructor(
    readonly text: string,
    readonly tz: string,
  ) {
    this.cron = new Cron(text, { timezone: tz, paused: true, mode: '5-or-6-parts' });
    // croner checks the zone only when it computes a date: do it now, so a bad zone fails here.
    this.cron.nextRun(new Date(0));
  }

  /** The first tick strictly after `afterMs` (ms since the epoch), or null when there is none (e.g. 30 Feb). */
  next(afterMs: number): number | null {
    return this.cron.nextRun(new Date(afterMs))?.getTime() ?? null;
  }

  /** The latest tick at or before `atMs`, or null. */
  latestAtOrBefore(atMs: number): number | null {
    // previousRuns looks strictly before its reference, cut to whole seconds: one second later
    // includes a tick at atMs itself (ticks are whole seconds) and none after it.
    const t = this.cron.previousRuns(1, new Date(atMs + 1000))[0]?.getTime() ?? null;
    return t !== null && t <= atMs ? t : null;
  }

  /** Ticks in (afterMs, untilMs], in order, at most `limit` of them. */
  between(afterMs: number, untilMs: number, limit: number): number[] {
    const out: number[] = [];
    let t = this.next(afterMs);
    while (t !== null && t <= untilMs && out.length < limit) {
      out.push(t);
      t = this.next(t);
    }
    return out;
  }
}

/** The next tick of `cron` in `tz` strictly after `afterMs`; null when it never fires again. */
export function nextTick(cron: string, tz: string, afterMs: number): number | null {
  return new CronTicks(cron, tz).next(afterMs);
}
