// The sync: and null: engines, through the API an application uses (Job.dispatch): sync runs the
// job in the caller with the runtime's attempts, hooks and errors; null validates and drops.
import assert from 'node:assert/strict';
import { after, beforeEach, describe, test } from 'node:test';
import { Job, close, openProducer, openStore, useStore, type JobContext, type Producer } from '../src/index.ts';
import { runCli } from './helpers/cli.ts';

// What the jobs below did, in order.
let calls: string[] = [];
let contexts: JobContext[] = [];
let instances = new Set<object>();

class Ok extends Job<{ to: string }> {
  queue = 'mail';
  run(p: { to: string }): void {
    instances.add(this);
    contexts.push({ ...this.context! });
    calls.push(`run ${p.to}`);
  }
  onSuccess(p: { to: string }): void {
    calls.push(`success ${p.to} ${this.context!.attempt}`);
  }
  onFailure(): void {
    calls.push('failure');
  }
}

/** Fails its first `failTimes` runs. */
class Flaky extends Job<{ failTimes: number }> {
  attempts = 3;
  retryAfter = '+1 hour'; // not waited for by sync:
  run(p: { failTimes: number }): void {
    instances.add(this);
    calls.push(`run ${this.context!.attempt}/${this.context!.maxAttempts}`);
    if (this.context!.attempt <= p.failTimes) throw new Error(`boom ${this.context!.attempt}`);
  }
  onSuccess(): void {
    calls.push('success');
  }
  onFailure(_p: unknown, error: Error): void {
    calls.push(`failure ${error.message}`);
  }
}

class GivesUp extends Job {
  attempts = 5;
  run(): void {
    calls.push(`run ${this.context!.attempt}`);
    this.failPermanently('address is missing');
  }
  onFailure(_p: unknown, error: Error): void {
    calls.push(`failure ${error.name}`);
  }
}

// @ts-expect-error TypeScript requires run() (TS2515); execute() is the seed's name, which JavaScript job files may use.
class Legacy extends Job<{ n: number }> {
  execute(p: { n: number }): void {
    calls.push(`execute ${p.n}`);
  }
}

class ThrowsText extends Job {
  run(): void {
    throw 'plain text'; // eslint-disable-line no-throw-literal
  }
}

class BadHooks extends Job {
  run(): void {
    calls.push('run');
  }
  onSuccess(): void {
    throw new Error('hook broke');
  }
}

class Mutates extends Job<{ list: number[] }> {
  run(p: { list: number[] }): void {
    p.list.push(99);
    calls.push(`run ${p.list.join(',')}`);
  }
}

beforeEach(() => {
  calls = [];
  contexts = [];
  instances = new Set();
});
after(() => close());

async function use(url: string): Promise<Producer> {
  const producer = await openProducer(url);
  useStore(producer);
  return producer;
}

describe('sync: engine', () => {
  test('dispatch runs the job before it resolves, with context, payload and onSuccess; ids ascend', async () => {
    await use('sync:');
    const a = await new Ok().dispatch({ to: 'ann' });
    assert.deepEqual(calls, ['run ann', 'success ann 1']);
    const b = await new Ok().dispatch({ to: 'bob' }, { queue: 'urgent' });
    assert.ok(b > a, 'ids ascend');
    const { scheduledAt, ...context } = contexts[1]!;
    assert.deepEqual(context, { id: b, handler: 'Ok', queue: 'urgent', attempt: 1, maxAttempts: 1, runtimeId: `sync:${process.pid}` });
    assert.ok(scheduledAt instanceof Date && Math.abs(scheduledAt.getTime() - Date.now()) < 5_000, 'due now: no delay');
  });

  test('retries at once up to attempts, a fresh instance each run; onFailure is not called when a retry succeeds', async () => {
    await use('sync:');
    const started = Date.now();
    await new Flaky().dispatch({ failTimes: 2 });
    assert.deepEqual(calls, ['run 1/3', 'run 2/3', 'run 3/3', 'success']);
    assert.equal(instances.size, 3, 'one instance per run, as in the runtime');
    assert.ok(Date.now() - started < 1_000, 'retryAfter is not waited for');
  });

  test('the final failure calls onFailure once and rejects the dispatch with the job’s error', async () => {
    await use('sync:');
    await assert.rejects(new Flaky().dispatch({ failTimes: 9 }), { name: 'Error', message: 'boom 3' });
    assert.deepEqual(calls, ['run 1/3', 'run 2/3', 'run 3/3', 'failure boom 3']);
    calls = [];
    await assert.rejects(new Flaky().dispatch({ failTimes: 9 }, { attempts: 1 }), { message: 'boom 1' });
    assert.deepEqual(calls, ['run 1/1', 'failure boom 1'], 'dispatch options override the class');
  });

  test('failPermanently stops the retries at once', async () => {
    await use('sync:');
    await assert.rejects(new GivesUp().dispatch(), { name: 'PermanentFailure', message: 'address is missing' });
    assert.deepEqual(calls, ['run 1', 'failure PermanentFailure']);
  });

  test('execute() is accepted instead of run(); a thrown string becomes an Error', async () => {
    await use('sync:');
    await new Legacy().dispatch({ n: 7 });
    assert.deepEqual(calls, ['execute 7']);
    await assert.rejects(new ThrowsText().dispatch(), (e: unknown) => e instanceof Error && e.message === 'plain text');
  });

  test('a throwing hook is a warning, not a failure', async () => {
    await use('sync:');
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(`${w.name}: ${w.message}`);
    process.on('warning', onWarning);
    try {
      const id = await new BadHooks().dispatch();
      await new Promise((r) => setImmediate(r)); // warnings are emitted on the next tick
      assert.deepEqual(calls, ['run']);
      assert.deepEqual(warnings, [`JobHookWarning: onSuccess() of job BadHooks #${id} threw: hook broke`]);
    } finally {
      process.off('warning', onWarning);
    }
  });

  test('the job gets a copy of the payload, as from a store; invalid input is refused before anything runs', async () => {
    await use('sync:');
    const payload = { list: [1] };
    await new Mutates().dispatch(payload);
    assert.deepEqual(payload, { list: [1] });
    assert.deepEqual(calls, ['run 1,99']);
    await assert.rejects(new Ok().dispatch({ to: 'x' }, { queue: 'bad queue' }), { name: 'InvalidInputError' });
    await assert.rejects(new Ok().dispatch({ to: undefined } as never), { name: 'TypeError' });
    assert.deepEqual(calls, ['run 1,99']);
  });

  test('dispatchMany runs every job in order, then rejects if any failed', async () => {
    await use('sync:');
    const ids = await Ok.dispatchMany([{ to: 'a' }, { to: 'b' }]);
    assert.equal(ids.length, 2);
    assert.ok(ids[1]! > ids[0]!);
    calls = [];
    await assert.rejects(Flaky.dispatchMany([{ failTimes: 9 }, { failTimes: 0 }], { attempts: 1 }), { message: 'boom 1' });
    assert.deepEqual(calls, ['run 1/1', 'failure boom 1', 'run 1/1', 'success']);
  });

  test('the producer alone cannot run a job: enqueue without the class says to dispatch from the app', async () => {
    const producer = await openProducer('sync:');
    await assert.rejects(producer.enqueue({ jobs: [new Ok().toNewJob({ to: 'x' })] }), {
      name: 'InvalidInputError',
      message: /runs jobs only when application code dispatches them/,
    });
  });
});

describe('null: engine', () => {
  test('dispatch validates, drops the job and returns ascending ids; nothing runs', async () => {
    await use('null:');
    const a = await new Ok().dispatch({ to: 'ann' });
    const [b, c] = await Ok.dispatchMany([{ to: 'b' }, { to: 'c' }]);
    assert.deepEqual([a < b!, b! < c!], [true, true]);
    assert.deepEqual(calls, []);
    await assert.rejects(new Ok().dispatch({ to: 'x' }, { attempts: 0 }), { name: 'InvalidInputError' });
    await assert.rejects(new Ok().dispatch({ to: new Date() } as never), { name: 'TypeError' });
  });
});

describe('engines that keep no jobs are producers only', () => {
  for (const url of ['sync:', 'null:']) {
    test(`openStore refuses ${url}: there is nothing to claim, count or inspect`, async () => {
      await assert.rejects(openStore(url), { name: 'InvalidInputError', message: new RegExp(`The ${url} engine keeps no jobs`) });
    });
  }
});

describe('jobs-runtime start on an engine that keeps no jobs', () => {
  for (const url of ['sync:', 'null:']) {
    test(`refuses ${url}`, async () => {
      const r = await runCli(['start', '--database-url', url, '--procs', '1'], { timeoutMs: 20_000 });
      assert.equal(r.code, 1, r.stdout + r.stderr);
      assert.match(r.stderr, new RegExp(`The ${url} engine keeps no jobs, so a runtime has nothing to process`));
    });
  }
});
