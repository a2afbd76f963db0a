// Input validation where it enters: delay texts, handler and queue names, payloads, job settings.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { delayToMs, parseCliDuration, parseDurationText } from '../src/values/duration.ts';
import { assertHandlerName, parseQueueList } from '../src/values/names.ts';
import { assertPayloadSize, serializePayload } from '../src/values/payload.ts';
import { Job } from '../src/job.ts';
import { InvalidInputError } from '../src/errors.ts';
import { isLocalUrl, maskUrlPassword } from '../src/stores/url-in-messages.ts';
import { openStore } from '../src/stores/open-store.ts';

describe('delay and duration texts', () => {
  test('strtotime-style relative texts', () => {
    assert.equal(parseDurationText('+30 seconds'), 30_000);
    assert.equal(parseDurationText('+2 hours'), 7_200_000);
    assert.equal(parseDurationText('1 day'), 86_400_000);
    assert.equal(parseDurationText('+1 minute'), 60_000);
    assert.equal(parseDurationText('1 hour 30 minutes'), 5_400_000);
    assert.equal(parseDurationText('+1 week'), 604_800_000);
    assert.equal(parseDurationText('500ms'), 500);
    assert.equal(parseDurationText('1.5 hours'), 5_400_000);
    assert.equal(parseDurationText('now'), 0);
    assert.equal(parseDurationText('  +10 Seconds '), 10_000);
  });
  test('bad texts throw, naming the text', () => {
    assert.throws(() => parseDurationText('+30 bananas', 'delay'), /Invalid delay '\+30 bananas'/);
    assert.throws(() => parseDurationText('soon'), /'soon'/);
    assert.throws(() => parseDurationText('+1 month'), /'\+1 month'/);
    assert.throws(() => parseDurationText(''), /empty/);
    assert.throws(() => parseDurationText('30 seconds tomorrow'), /'30 seconds tomorrow'/);
  });
  test('delays: numbers are ms, Dates are absolute, the past means now', () => {
    const now = 1_000_000;
    assert.equal(delayToMs(1500), 1500);
    assert.equal(delayToMs(new Date(now + 5000), 'delay', now), 5000);
    assert.equal(delayToMs(new Date(now - 5000), 'delay', now), 0);
    assert.equal(delayToMs(undefined), 0);
    assert.equal(delayToMs('-5 minutes'), 0);
    assert.throws(() => delayToMs(Number.NaN), /finite/);
    assert.throws(() => delayToMs(new Date('nope')), /invalid/);
    assert.throws(() => delayToMs({} as never), /type object/);
  });
  test('CLI durations: a bare number is seconds', () => {
    assert.equal(parseCliDuration('2', '--sleep'), 2000);
    assert.equal(parseCliDuration('0.25', '--sleep'), 250);
    assert.equal(parseCliDuration('500ms', '--sleep'), 500);
    assert.throws(() => parseCliDuration('-5 seconds', '--grace'), /--grace.*negative/);
    assert.throws(() => parseCliDuration('banana', '--sleep'), /--sleep 'banana'/);
  });
  test('durations past 5000 weeks are refused wherever they enter (MySQL DATETIME ends in 9999)', () => {
    assert.equal(parseDurationText('5000 weeks'), 5000 * 604_800_000);
    assert.throws(
      () => parseDurationText('+600000 weeks', 'delay of job Probe'),
      /^InvalidInputError: Invalid delay of job Probe '\+600000 weeks': at most 5000 weeks \(about 96 years\)$/,
    );
    assert.throws(() => delayToMs(1e16), /at most 5000 weeks/);
    assert.throws(() => delayToMs(new Date(8.64e15)), /at most 5000 weeks/);
    assert.throws(() => parseCliDuration('1e12', '--grace'), /--grace/);
    assert.throws(() => parseCliDuration('99999999999', '--grace'), /value for --grace '99999999999': at most 5000 weeks/);
  });
});

describe('handler and queue names', () => {
  test('identifiers and folder paths inside the jobs directory are accepted', () => {
    for (const ok of ['SendMail', 'mail/SendMail', '_x', '$y', 'a/b/C9']) assertHandlerName(ok);
  });
  test('paths that could leave the jobs directory, and other names, are refused', () => {
    for (const bad of ['../x', '/etc/passwd', 'a/../b', 'a//b', 'Send Mail', 'x.ts', '1abc', '', 'a/', 'x'.repeat(256)]) {
      assert.throws(() => assertHandlerName(bad), /Invalid job handler name/, bad);
    }
    // A backslash is how a Lightpack (PHP) class name looks: refused, saying so.
    assert.throws(() => assertHandlerName('a\\b'), /Job handler 'a\\b' is a Lightpack \(PHP\) job class/);
    assert.throws(() => assertHandlerName(42), /non-empty string/);
  });
  test('queue lists keep their order and refuse odd names', () => {
    assert.deepEqual(parseQueueList('high, default,low,high'), ['high', 'default', 'low']);
    assert.throws(() => parseQueueList(' , '), /one or more queue names/);
    assert.throws(() => parseQueueList('a;drop table jobs'), /Invalid queue name/);
    assert.throws(() => parseQueueList('x'.repeat(65)), /1 to 64/);
  });
});

describe('payloads', () => {
  test('plain JSON data is serialised as is', () => {
    assert.equal(serializePayload({ a: [1, 'x', null, true, { b: 2.5 }] }), '{"a":[1,"x",null,true,{"b":2.5}]}');
    assert.equal(serializePayload(Object.assign(Object.create(null), { k: 1 })), '{"k":1}');
  });
  test('what JSON would change or drop is refused, naming where', () => {
    assert.throws(
      () => serializePayload({ n: 10n }),
      (e: Error) => e instanceof TypeError && /payload\.n is a BigInt/.test(e.message),
    );
    assert.throws(() => serializePayload({ f: () => 1 }), /payload\.f is a function/);
    assert.throws(() => serializePayload({ a: { u: undefined } }), /payload\.a\.u is undefined/);
    assert.throws(() => serializePayload({ d: new Date() }), /payload\.d is a Date.*toISOString/);
    assert.throws(() => serializePayload({ m: new Map() }), /payload\.m is a Map/);
    assert.throws(() => serializePayload([1, Number.NaN]), /payload\.1 is NaN/);
    assert.throws(() => serializePayload({ s: Symbol('x') }), /symbol/);
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    assert.throws(() => serializePayload(circular), /payload\.self is circular/);
    const shared = { x: 1 };
    assert.equal(serializePayload({ a: shared, b: shared }), '{"a":{"x":1},"b":{"x":1}}', 'a shared object is not circular');
  });
  test('size is counted in UTF-8 bytes and refused with a RangeError', () => {
    assertPayloadSize('"éé"', 6, 'test');
    assert.throws(
      () => assertPayloadSize('"ééé"', 6, 'mysql'),
      (e: Error) => e instanceof RangeError && /8 bytes.*mysql store accepts \(6 bytes\)/.test(e.message),
    );
  });
});

describe('job settings', () => {
  class SendMail extends Job<{ to: string }> {
    override queue = 'emails';
    override delay = '+30 seconds';
    override attempts = 3;
    override retryAfter = '+1 minute';
    run(): void {}
  }
  test("a job's row carries the class settings, overridable per dispatch", () => {
    const row = new SendMail().toNewJob({ to: 'bob@example.com' });
    assert.deepEqual(row, {
      handler: 'SendMail',
      queue: 'emails',
      payload: '{"to":"bob@example.com"}',
      delayMs: 30_000,
      maxAttempts: 3,
      retryAfterMs: 60_000,
      retryPolicy: null,
      timeoutMs: null,
      priority: 0,
      unique: null,
      concurrency: null,
      rate: null,
    });
    const over = new SendMail().toNewJob({ to: 'x' }, { delay: '+1 hour', queue: 'x', attempts: 1, timeout: '10s' });
    assert.equal(over.delayMs, 3_600_000);
    assert.equal(over.queue, 'x');
    assert.equal(over.maxAttempts, 1);
    assert.equal(over.timeoutMs, 10_000);
  });
  test('bad settings throw before anything is stored', () => {
    class Bad extends Job {
      override delay = '+30 bananas';
      run(): void {}
    }
    assert.throws(() => new Bad().toNewJob({}), /Invalid delay of job Bad '\+30 bananas'/);
    assert.throws(
      () => new SendMail().toNewJob({ to: 'x' }, { attempts: 0 }),
      /Invalid attempts 0 for job SendMail: it must be a whole number from 1 to 1000000/,
    );
    // MySQL's INT column would refuse it with a raw out-of-range error.
    assert.throws(() => new SendMail().toNewJob({ to: 'x' }, { attempts: 2 ** 31 }), /Invalid attempts 2147483648 .* from 1 to 1000000/);
    assert.equal(new SendMail().toNewJob({ to: 'x' }, { attempts: 1_000_000 }).maxAttempts, 1_000_000);
    assert.throws(() => new SendMail().toNewJob({ to: 'x' }, { queue: 'no spaces' }), /Invalid queue name/);
    class Named extends Job {
      static override handler = '../escape';
      run(): void {}
    }
    assert.throws(() => new Named().toNewJob({}), /Invalid job handler name '\.\.\/escape'/);
  });
  test('no payload means an empty object', () => {
    assert.equal(new SendMail().toNewJob(undefined).payload, '{}');
  });
});

describe('store URLs in messages', () => {
  test('the password is masked whole, even with an unencoded @ or /', () => {
    assert.equal(maskUrlPassword('mysql://root:s3cret@db:3306/app'), 'mysql://root:***@db:3306/app');
    assert.equal(maskUrlPassword('redis://user:p@ss@127.0.0.1:6379/0?prefix=a@b'), 'redis://user:***@127.0.0.1:6379/0?prefix=a@b');
    assert.equal(maskUrlPassword('redis://user:pa/ss@host:6379'), 'redis://user:***@host:6379');
    assert.equal(maskUrlPassword('redis://:secret@host'), 'redis://:***@host');
    assert.equal(maskUrlPassword('mysql://root@db/app'), 'mysql://root@db/app');
    assert.equal(maskUrlPassword('sqlite:./jobs.sqlite'), 'sqlite:./jobs.sqlite');
  });

  test('how to start a server is suggested only for a server on this machine', () => {
    assert.deepEqual(
      ['mysql://root@127.0.0.1:3306/db', 'redis://localhost:6379', 'redis://[::1]:6379', 'mysql://root@db.internal/app', 'redis://10.0.0.5'].map(isLocalUrl),
      [true, true, true, false, false],
    );
  });

  test('a URL the parser refuses is reported without its password, with the likely cause', async () => {
    for (const url of ['mysql://root:pa/ss@127.0.0.1:3306/db', 'redis://user:pa/ss@127.0.0.1:6379']) {
      await assert.rejects(
        async () => (await openStore(url)).close(),
        (e: Error) =>
          e instanceof InvalidInputError && !e.message.includes('pa/ss') && e.message.includes(':***@127.0.0.1') && /must be percent-encoded/.test(e.message),
        url,
      );
    }
  });
});
