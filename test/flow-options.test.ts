// Flow-control settings where they enter (issue 15): a job class's or a dispatch's priority,
// unique key, concurrency and rate limits and retryAfter forms are checked at dispatch, each
// error names the job, the option and the value, and a bad dispatch stores nothing.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { useStore } from '../src/dispatcher.ts';
import { Job, type RateLimit } from '../src/job.ts';
import { openStore } from '../src/stores/open-store.ts';
import type { JobStore } from '../src/stores/store.ts';
import { payloadKey } from '../src/values/flow-options.ts';
import { resolveRetryAfter, retryDelayMs } from '../src/values/retry-policy.ts';

type Mail = { to: string; accountId?: string };

class SendMail extends Job<Mail> {
  async run() {}
}
class UniqueMail extends Job<Mail> {
  unique = { key: (p: Mail) => p.to, for: '10 minutes' };
  concurrencyLimit = { limit: 2, key: (p: Mail) => p.accountId ?? 'none' };
  rateLimit = { limit: 100, per: '1 minute', key: 'mailgun' } satisfies RateLimit<Mail>;
  priority = -5;
  async run() {}
}
/** The seed's method form of rateLimit. */
class SeedRate extends Job<Mail> {
  rateLimit() {
    return { limit: 10, minutes: 1, key: 'x' };
  }
  async run() {}
}
class ThrowingKey extends Job<Mail> {
  unique = {
    key: (): string => {
      throw new Error('no key today');
    },
  };
  async run() {}
}

describe('flow-control settings of a dispatch', () => {
  test('the class settings become the stored row', () => {
    const row = new UniqueMail().toNewJob({ to: 'bob@example.com', accountId: 'a1' });
    assert.equal(row.priority, -5);
    assert.deepEqual(row.unique, { key: 'bob@example.com', forMs: 600_000, until: 'done', onConflict: 'skip' });
    assert.deepEqual(row.concurrency, { key: 'a1', limit: 2 });
    assert.deepEqual(row.rate, { key: 'mailgun', limit: 100, perMs: 60_000 });
    assert.deepEqual(new SeedRate().toNewJob({ to: 'x' }).rate, { key: 'x', limit: 10, perMs: 60_000 });
  });

  test('per-dispatch overrides, and null turns a class setting off', () => {
    const row = new UniqueMail().toNewJob(
      { to: 'bob@example.com' },
      { priority: 7, unique: null, concurrencyLimit: { limit: 1 }, rateLimit: { limit: 5, seconds: 2 } },
    );
    assert.equal(row.priority, 7);
    assert.equal(row.unique, null);
    assert.deepEqual(row.concurrency, { key: 'UniqueMail', limit: 1 }, 'the key defaults to the handler');
    assert.deepEqual(row.rate, { key: 'UniqueMail', limit: 5, perMs: 2000 });
    assert.equal(new SendMail().toNewJob({ to: 'x' }).priority, 0);
  });

  test('unique: true keys on the whole payload, in canonical JSON (key order does not matter)', () => {
    const a = new SendMail().toNewJob({ to: 'x', accountId: 'y' }, { unique: true });
    const b = new SendMail().toNewJob({ accountId: 'y', to: 'x' }, { unique: true });
    assert.equal(a.unique!.key, b.unique!.key);
    assert.equal(a.unique!.key, '{"accountId":"y","to":"x"}');
    assert.match(payloadKey(JSON.stringify({ body: 'x'.repeat(500) })), /^sha256:[0-9a-f]{64}$/, 'a long payload is keyed by its hash');
  });

  test('bad values throw, naming the job, the option and the value', () => {
    const job = new SendMail();
    const p = { to: 'x' };
    assert.throws(() => job.toNewJob(p, { priority: 1.5 }), /Invalid priority 1\.5 for job SendMail: .*-1000 to 1000/);
    assert.throws(() => job.toNewJob(p, { priority: 5000 }), /Invalid priority 5000 for job SendMail/);
    assert.throws(() => job.toNewJob(p, { concurrencyLimit: { limit: 0 } }), /Invalid concurrencyLimit\.limit 0 for job SendMail/);
    assert.throws(() => job.toNewJob(p, { rateLimit: { limit: 3, per: 'soon' } }), /rateLimit\.per of job SendMail 'soon'/);
    assert.throws(() => job.toNewJob(p, { rateLimit: { limit: 3 } }), /Invalid rateLimit .* for job SendMail: give its window once/);
    assert.throws(() => job.toNewJob(p, { unique: { key: () => '' } }), /Invalid unique\.key '' for job SendMail: it must be a non-empty string/);
    assert.throws(() => job.toNewJob(p, { unique: { key: 'k'.repeat(256) } }), /unique\.key .* for job SendMail: it is 256 characters long; at most 255/);
    assert.throws(() => job.toNewJob(p, { unique: { key: () => 42 as unknown as string } }), /Invalid unique\.key 42 for job SendMail/);
    assert.throws(() => job.toNewJob(p, { unique: { key: 'k', until: 'later' as 'done' } }), /unique\.until 'later'/);
    assert.throws(() => job.toNewJob(p, { unique: { key: 'k', onConflict: 'merge' as 'skip' } }), /unique\.onConflict 'merge'/);
    assert.throws(() => job.toNewJob(p, { unique: { key: 'k', for: new Date() } }), /unique\.for .* not a date/);
    assert.throws(() => new ThrowingKey().toNewJob(p), /The unique\.key function of job ThrowingKey threw: no key today/);
    assert.throws(() => job.toNewJob(p, { retryAfter: { exponential: '2 seconds', max: '1 second' } }), /retryAfter\.max of job SendMail: it is shorter/);
    assert.throws(() => job.toNewJob(p, { retryAfter: [] }), /retryAfter of job SendMail: a list needs 1 to 100 waits/);
    assert.throws(() => job.toNewJob(p, { retryAfter: (() => 5) as never }), /retryAfter of job SendMail: a function can be set on the job class only/);
  });
});

describe('retry waits', () => {
  const stored = (v: Parameters<typeof resolveRetryAfter>[1]) => resolveRetryAfter('J', v, false);
  test('fixed, exponential with a cap, a list with its last repeated', () => {
    assert.deepEqual(stored('30 seconds'), { retryAfterMs: 30_000, retryPolicy: null });
    const exp = stored({ exponential: '2 seconds', max: '10 seconds' });
    assert.deepEqual(
      [1, 2, 3, 4, 5].map((a) => retryDelayMs(exp, a, null)),
      [2000, 4000, 8000, 10_000, 10_000],
    );
    const list = stored(['1 second', '1 minute']);
    assert.deepEqual(
      [1, 2, 3].map((a) => retryDelayMs(list, a, null)),
      [1000, 60_000, 60_000],
    );
  });
  test('jitter draws each wait from the upper half', () => {
    const exp = stored({ exponential: 1000, jitter: true });
    assert.equal(
      retryDelayMs(exp, 3, null, () => 0),
      2000,
    );
    assert.equal(
      retryDelayMs(exp, 3, null, () => 0.999_999),
      4000,
    );
  });
  test("the function form: the class's answer in the run decides, the fixed wait is the fallback", () => {
    const fn = stored(() => 5);
    assert.equal(retryDelayMs(fn, 2, 1234), 1234);
    assert.equal(retryDelayMs(fn, 2, null), 0);
  });
  test('an unreadable stored policy falls back to the fixed wait', () => {
    assert.equal(retryDelayMs({ retryAfterMs: 700, retryPolicy: '{not json' }, 1, null), 700);
  });
});

describe('a bad dispatch stores nothing', () => {
  let dir: string;
  let store: JobStore;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'jr-flow-options-'));
    store = await openStore(`sqlite:${join(dir, 'jobs.sqlite')}`);
    await store.admin.migrate({});
    useStore(store);
  });
  after(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  test('dispatchMany with one bad key throws and writes no job of the call', async () => {
    await assert.rejects(SendMail.dispatchMany([{ to: 'a' }, { to: '' }], { unique: { key: (p: Mail) => p.to } }), /Invalid unique\.key '' for job SendMail/);
    assert.deepEqual(await store.admin.counts({}), []);
  });
});
