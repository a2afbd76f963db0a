// The tick function (croner underneath) around daylight-saving changes and a leap day, and the
// checks a schedule goes through. Unit tests: a store's clock cannot be moved to these dates.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CronTicks, nextTick } from '../src/schedules/ticks.ts';
import { checkSchedule, checkStaticSchedules } from '../src/schedules/definition.ts';
import { InvalidInputError } from '../src/errors.ts';

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
/** The next `n` ticks after `from` (an ISO instant), as ISO texts. */
function ticks(cron: string, tz: string, from: string, n: number): Array<string | null> {
  const c = new CronTicks(cron, tz);
  const out: Array<string | null> = [];
  let t: number | null = Date.parse(from);
  for (let i = 0; i < n && t !== null; i++) {
    t = c.next(t);
    out.push(iso(t));
  }
  return out;
}

describe('ticks around daylight-saving changes', () => {
  test('Europe/Paris spring forward (29 Mar 2026, 02:00 → 03:00): a daily 02:30 runs once, at 03:00', () => {
    assert.deepEqual(ticks('30 2 * * *', 'Europe/Paris', '2026-03-28T12:00:00Z', 3), [
      '2026-03-29T01:00:00.000Z', // 03:00 CEST: the first instant after the gap
      '2026-03-30T00:30:00.000Z', // 02:30 CEST
      '2026-03-31T00:30:00.000Z',
    ]);
  });
  test('Europe/Paris fall back (25 Oct 2026, 03:00 → 02:00): a daily 02:30 runs once, at its first occurrence', () => {
    assert.deepEqual(ticks('30 2 * * *', 'Europe/Paris', '2026-10-24T12:00:00Z', 3), [
      '2026-10-25T00:30:00.000Z', // 02:30 CEST; 02:30 CET (01:30Z) does not run
      '2026-10-26T01:30:00.000Z', // 02:30 CET
      '2026-10-27T01:30:00.000Z',
    ]);
  });
  test('Europe/Paris fall back: an every-30-minutes cron keeps its pace through the repeated hour', () => {
    assert.deepEqual(ticks('*/30 * * * *', 'Europe/Paris', '2026-10-24T23:45:00Z', 5), [
      '2026-10-25T00:00:00.000Z', // 02:00 CEST
      '2026-10-25T00:30:00.000Z', // 02:30 CEST
      '2026-10-25T01:00:00.000Z', // 02:00 CET
      '2026-10-25T01:30:00.000Z', // 02:30 CET
      '2026-10-25T02:00:00.000Z', // 03:00 CET
    ]);
  });
  test('America/New_York spring forward (8 Mar 2026): a daily 02:30 runs once, at 03:00 EDT', () => {
    assert.deepEqual(ticks('30 2 * * *', 'America/New_York', '2026-03-07T12:00:00Z', 2), ['2026-03-08T07:00:00.000Z', '2026-03-09T06:30:00.000Z']);
  });
  test('America/New_York fall back (1 Nov 2026): a daily 01:30 runs once, at 01:30 EDT', () => {
    assert.deepEqual(ticks('30 1 * * *', 'America/New_York', '2026-10-31T12:00:00Z', 2), ['2026-11-01T05:30:00.000Z', '2026-11-02T06:30:00.000Z']);
  });
  test('an hourly cron has 23 ticks on the spring day and 25 on the autumn day (Paris)', () => {
    const c = new CronTicks('@hourly', 'Europe/Paris');
    assert.equal(c.between(Date.parse('2026-03-28T23:00:00Z') - 1, Date.parse('2026-03-29T21:59:59Z'), 100).length, 23);
    assert.equal(c.between(Date.parse('2026-10-24T22:00:00Z') - 1, Date.parse('2026-10-25T22:59:59Z'), 100).length, 25);
  });
});

describe('ticks at a leap day and other edges', () => {
  test('29 February runs only in leap years', () => {
    assert.deepEqual(ticks('0 12 29 2 *', 'UTC', '2026-01-01T00:00:00Z', 2), ['2028-02-29T12:00:00.000Z', '2032-02-29T12:00:00.000Z']);
  });
  test('a monthly last-day-of-February job on 28/29 Feb: every day from 28 Feb to 1 Mar in 2028', () => {
    assert.deepEqual(ticks('0 0 * 2,3 *', 'Europe/Paris', '2028-02-27T23:00:00Z', 3), [
      '2028-02-28T23:00:00.000Z', // 29 Feb 00:00 Paris
      '2028-02-29T23:00:00.000Z', // 1 Mar
      '2028-03-01T23:00:00.000Z',
    ]);
  });
  test('a cron that never fires has no next tick', () => {
    assert.equal(nextTick('0 0 30 2 *', 'UTC', 0), null);
  });
  test('6 fields: seconds; nicknames; ticks are strictly after', () => {
    assert.deepEqual(ticks('*/2 * * * * *', 'UTC', '2026-01-01T00:00:00Z', 2), ['2026-01-01T00:00:02.000Z', '2026-01-01T00:00:04.000Z']);
    assert.equal(iso(nextTick('@daily', 'UTC', Date.parse('2026-01-01T00:00:00Z'))), '2026-01-02T00:00:00.000Z');
    assert.equal(iso(nextTick('@hourly', 'Asia/Kolkata', Date.parse('2026-01-01T00:10:00Z'))), '2026-01-01T00:30:00.000Z');
  });
  test('latestAtOrBefore includes a tick at the instant itself, across a DST gap', () => {
    const c = new CronTicks('30 2 * * *', 'Europe/Paris');
    assert.equal(iso(c.latestAtOrBefore(Date.parse('2026-03-30T00:30:00Z'))), '2026-03-30T00:30:00.000Z');
    assert.equal(iso(c.latestAtOrBefore(Date.parse('2026-03-30T00:29:59.999Z'))), '2026-03-29T01:00:00.000Z');
  });
});

describe('schedule checks', () => {
  const where = 'job class Nightly (jobs/Nightly.ts)';
  test('defaults: UTC, misfire skip, payload {}, key = handler (list: handler#n)', () => {
    assert.deepEqual(checkSchedule(where, '*/5 * * * *', 'Nightly'), { key: 'Nightly', cron: '*/5 * * * *', tz: 'UTC', misfire: 'skip', payload: {} });
    assert.deepEqual(
      checkStaticSchedules(where, 'mail/Nightly', ['@daily', { cron: '@hourly', key: 'hourly-report' }]).map((s) => s.key),
      ['mail/Nightly#1', 'hourly-report'],
    );
  });
  test('bad input names the class, the field and the value', () => {
    const bad: Array<[unknown, RegExp]> = [
      [{ cron: '61 * * * *' }, /Nightly.*field 'cron' '61 \* \* \* \*' is not a cron text \(Invalid value for minute: 61\)/],
      [{ cron: '* * *' }, /field 'cron' '\* \* \*'/],
      [{ cron: '@daily', tz: 'Mars/Olympus' }, /Nightly.*field 'tz' "Mars\/Olympus" is not an IANA time zone/],
      [{ cron: '@daily', payload: { at: new Date(0) } }, /Nightly.*field 'payload': payload\.at is a Date/],
      [{ cron: '@daily', misfire: 'all' }, /field 'misfire' must be 'skip' or 'once', got "all"/],
      [{ cron: '@daily', key: '../x' }, /Nightly.*field 'key'.*"\.\.\/x"/],
      [{ cron: '@daily', when: 'now' }, /unknown field 'when'/],
      [42, /expected a cron text or \{ cron/],
    ];
    for (const [spec, message] of bad)
      assert.throws(
        () => checkSchedule(where, spec, 'Nightly'),
        (e: Error) => e instanceof InvalidInputError && message.test(e.message),
      );
  });
  test('a key used twice in one class is refused', () => {
    assert.throws(
      () =>
        checkStaticSchedules(where, 'Nightly', [
          { cron: '@daily', key: 'a' },
          { cron: '@hourly', key: 'a' },
        ]),
      /key 'a' is used twice/,
    );
  });
});
