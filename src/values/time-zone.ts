import { InvalidInputError } from '../errors.js';

// Wall-clock times of a named zone (IANA, e.g. Asia/Kolkata) as UTC instants, with Intl's own
// zone data: no table in the database is needed (MySQL's CONVERT_TZ needs time zone tables
// that MariaDB installs empty).

/** Throws, naming the zone, when Intl does not know it. */
export function assertTimeZone(zone: string): void {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
  } catch {
    throw new InvalidInputError(`Unknown time zone '${zone}': use an IANA name like Asia/Kolkata, America/New_York or Europe/Berlin`);
  }
}

/** The zone's offset from UTC at `utcMs`, ms (Asia/Kolkata: +19,800,000). */
export function zoneOffsetMs(zone: string, utcMs: number): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone: zone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).formatToParts(new Date(utcMs));
  const get = (t: string) => Number(parts.find((p) => p.type === t)?.value ?? 0);
  const wall = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
  return wall - Math.floor(utcMs / 1000) * 1000;
}

/**
 * The UTC instant of a wall-clock time in `zone`, given as the ms a UTC reading of the same
 * digits would be. Around a DST change the offset is taken at the result, as PHP's date() did.
 */
export function wallClockToUtcMs(zone: string, wallMs: number): number {
  const first = wallMs - zoneOffsetMs(zone, wallMs);
  return wallMs - zoneOffsetMs(zone, first);
}
