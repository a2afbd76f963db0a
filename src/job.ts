import { delayToMs, type DelayInput } from './values/duration.js';
import { InvalidInputError, PermanentFailure } from './errors.js';
import { assertHandlerName, assertQueueName } from './values/names.js';
import { serializePayload } from './values/payload.js';
import { dispatchJobs } from './dispatcher.js';
import { dispatchInTransaction } from './transactions/dispatch-in-transaction.js';
import type { Enqueued, JobId, NewJob } from './stores/store.js';
import {
  type ConcurrencyOption,
  type RateOption,
  resolveConcurrency,
  resolvePriority,
  resolveRate,
  resolveUnique,
  type UniqueOption,
} from './values/flow-options.js';
import { type RetryAfterInput, resolveRetryAfter } from './values/retry-policy.js';
import type { DispatchArgs, JsonObject, JsonPayload } from './values/json.js';
import type { StaticSchedule } from './schedules/definition.js';

/** Most runs a job may be given: the CLI's limit too, and far inside every store's integer columns. */
export const MAX_ATTEMPTS = 1_000_000;

/** Set on the instance the runtime creates for one run, before run() is called. */
export interface JobContext {
  id: JobId;
  handler: string;
  queue: string;
  /** This run's number, 1 for the first. */
  attempt: number;
  maxAttempts: number;
  /** Id of the runtime (master process) running the job. */
  runtimeId: string;
  /**
   * When the job was due, by the store's clock: its dispatch time plus its delay (a retry: the
   * retry's due time). For a job a schedule enqueued, the tick it runs for (e.g. 02:30 Paris
   * time), however late it started.
   */
  scheduledAt: Date;
}

/** Per-dispatch overrides of the class's settings (`null` turns a class's limit or unique key off). */
export interface DispatchOptions<P = JsonObject> {
  queue?: string;
  delay?: DelayInput;
  attempts?: number;
  /** Any form but a function (a dispatch's settings are stored, and a function cannot be). */
  retryAfter?: Exclude<RetryAfterInput, (...args: never[]) => unknown>;
  timeout?: DelayInput;
  priority?: number;
  unique?: UniqueOption<P> | null;
  concurrencyLimit?: ConcurrencyOption<P> | null;
  rateLimit?: RateOption<P> | null;
  /**
   * The application's open transaction (MySQL/MariaDB, SQLite): the job is written in it and
   * exists if and only if it commits. A mysql2 promise connection, a Knex, Kysely or Drizzle
   * transaction, a Prisma interactive-transaction client, a TypeORM EntityManager or QueryRunner,
   * or a better-sqlite3 Database inside db.transaction() (there the write is synchronous: a
   * failed dispatch throws at once, so the transaction rolls back).
   */
  transaction?: unknown;
}

/** What a dispatch did: the job's id, and whether it was a duplicate of a job holding its unique key (then the id is that job's). */
export type DispatchResult = Enqueued;

/**
 * A job class's rate limit, as a property or as the seed's method (`rateLimit() { return { limit:
 * 10, minutes: 1, key: 'x' } }`). Not declared on Job, so that either form compiles: write
 * `rateLimit = { … } satisfies RateLimit<Payload>` to have it checked.
 */
export type RateLimit<P = JsonObject> = RateOption<P>;

/**
 * A background job. Subclass it in a file of the jobs directory (e.g. jobs/SendMail.ts, default
 * export), put the work in `run()`, and dispatch it from the application:
 *   await new SendMail().dispatch({ to: 'bob@example.com' })
 * The runtime creates a fresh instance for every run. P, the payload's type, may hold only JSON
 * data (a Date, Map or function in it is a compile error); jobs that take none leave it out.
 */
export abstract class Job<P extends JsonPayload<P> = JsonObject> {
  /** The handler name stored with each job: the file's path in the jobs directory, without extension. Defaults to the class name. */
  static handler?: string;
  /**
   * Recurring runs of this class, ticked by every runtime that loads it, each tick run once:
   * a cron text (UTC, payload {}), `{ cron, tz?, payload?, misfire?, key? }`, or a list of
   * either (README, Recurring jobs). Read from the class itself, not inherited by subclasses.
   */
  static schedule?: StaticSchedule;

  queue = 'default';
  /** Relative text ('+30 seconds'), ms or a Date; 'now' by default. */
  delay: DelayInput = 'now';
  /** Total runs allowed, the first one included. */
  attempts = 1;
  /**
   * Wait before each retry: a duration ('30 seconds', ms), exponential backoff
   * `{ exponential: '2 seconds', max?: '1 hour', jitter?: true }`, a list (one per retry, the last
   * repeated) or a function `(attempt, error) => duration`.
   */
  retryAfter: RetryAfterInput = 'now';
  /** Hard limit for one run; null = the runtime's --timeout. */
  timeout: DelayInput | null = null;

  /** −1000…1000: lower runs first (after the runtime's --queue order, before due time). */
  priority = 0;
  /**
   * At most one job of this class with the same key waits or runs: `true` (the whole payload is
   * the key) or `{ key, for, until, onConflict }`. A duplicate dispatch stores nothing and returns
   * the standing job's id (dispatchWithResult says it was a duplicate).
   */
  unique?: UniqueOption<P>;
  /** At most `limit` jobs with the same key run at once, across every runtime and host: `{ limit, key? }`. */
  concurrencyLimit?: ConcurrencyOption<P>;

  /** Which job and attempt this is: always set by the runtime before run() and the hooks; unset in the application, which has no run. */
  context!: JobContext;

  /** The work: abstract, so a class without it (or with a misspelt `runn()`) does not compile. */
  abstract run(payload: P): unknown;
  /** The seed's name for run(), which the runtime still accepts from JavaScript job files (TypeScript requires run). */
  execute?(payload: P): unknown;
  onSuccess?(payload: P): unknown;
  /** Called once, when the job has finally failed (no attempt left). */
  onFailure?(payload: P, error: Error): unknown;

  /** Ends this job now as failed, with no retries left. */
  failPermanently(message: string): never {
    throw new PermanentFailure(message);
  }

  /**
   * Stores the job; resolves to its id as soon as it is stored (for a duplicate of a unique job,
   * the standing job's id). The payload may be left out only when {} is a valid P.
   */
  dispatch(...args: DispatchArgs<P, DispatchOptions<P>>): Promise<JobId>;
  dispatch(payload?: P, options: DispatchOptions<P> = {}): Promise<JobId> {
    return dispatchOne(this, payload, options).then((r) => r.id);
  }

  /** As dispatch, resolving to `{ id, duplicate }`: `duplicate` is true when a job holding the same unique key stands (its id is given). */
  dispatchWithResult(...args: DispatchArgs<P, DispatchOptions<P>>): Promise<DispatchResult>;
  dispatchWithResult(payload?: P, options: DispatchOptions<P> = {}): Promise<DispatchResult> {
    return dispatchOne(this, payload, options);
  }

  /**
   * Stores many jobs of this class in one round trip (one transaction); resolves to their ids in
   * order. Unique keys apply within the call too: a later payload with an earlier one's key is a duplicate.
   */
  static dispatchMany<P extends JsonPayload<P>>(
    this: new () => Job<P>,
    payloads: readonly NoInfer<P>[],
    options: DispatchOptions<NoInfer<P>> = {},
  ): Promise<JobId[]> {
    return dispatchManyOf(this, payloads, options).then((rs) => rs.map((r) => r.id));
  }

  /** As dispatchMany, resolving to `{ id, duplicate }` for each payload, in order. */
  static dispatchManyWithResult<P extends JsonPayload<P>>(
    this: new () => Job<P>,
    payloads: readonly NoInfer<P>[],
    options: DispatchOptions<NoInfer<P>> = {},
  ): Promise<DispatchResult[]> {
    return dispatchManyOf(this, payloads, options);
  }

  /** The row to store: validates every setting and the payload, naming what is wrong. */
  toNewJob(payload: P | undefined, options: DispatchOptions<P> = {}): NewJob {
    const ctor = this.constructor as typeof Job;
    const handler = ctor.handler ?? ctor.name;
    assertHandlerName(handler);
    const queue = options.queue ?? this.queue;
    assertQueueName(queue);
    const attempts = options.attempts ?? this.attempts;
    if (!Number.isInteger(attempts) || attempts < 1 || attempts > MAX_ATTEMPTS) {
      throw new InvalidInputError(`Invalid attempts ${String(attempts)} for job ${handler}: it must be a whole number from 1 to ${MAX_ATTEMPTS}`);
    }
    const timeout = options.timeout ?? this.timeout;
    const timeoutMs = timeout === null ? null : delayToMs(timeout, `timeout of job ${handler}`);
    if (timeoutMs !== null && timeoutMs <= 0) throw new InvalidInputError(`Invalid timeout for job ${handler}: it must be longer than 0`);
    const value = payload === undefined ? ({} as P) : payload;
    const payloadJson = serializePayload(value);
    const retry = resolveRetryAfter(handler, options.retryAfter ?? this.retryAfter, options.retryAfter !== undefined);
    return {
      handler,
      queue,
      payload: payloadJson,
      delayMs: delayToMs(options.delay ?? this.delay, `delay of job ${handler}`),
      maxAttempts: attempts,
      retryAfterMs: retry.retryAfterMs,
      retryPolicy: retry.retryPolicy,
      timeoutMs,
      priority: resolvePriority(handler, options.priority ?? this.priority),
      unique: resolveUnique(handler, 'unique' in options ? options.unique : this.unique, value, payloadJson),
      concurrency: resolveConcurrency(handler, 'concurrencyLimit' in options ? options.concurrencyLimit : this.concurrencyLimit, value),
      rate: resolveRate(handler, 'rateLimit' in options ? options.rateLimit : this.classRateLimit(value), value),
    };
  }

  /** The class's rateLimit, a property or the seed's method (see RateLimit). */
  private classRateLimit(payload: P): unknown {
    const declared = (this as { rateLimit?: unknown }).rateLimit;
    return typeof declared === 'function' ? (declared as (p: P) => unknown).call(this, payload) : declared;
  }
}

/**
 * One dispatch. With `{ transaction }` it is not async: inside better-sqlite3's synchronous
 * db.transaction() the row is written, or the error thrown, before this returns.
 */
function dispatchOne<P extends JsonPayload<P>>(job: Job<P>, payload: P | undefined, options: DispatchOptions<P>): Promise<DispatchResult> {
  if (options.transaction !== undefined) return dispatchInTransaction(() => [job.toNewJob(payload, options)], options.transaction).then(([r]) => r!);
  return (async () => (await dispatchJobs(job.constructor as new () => Job<P>, [job.toNewJob(payload, options)]))[0]!)();
}

function dispatchManyOf<P extends JsonPayload<P>>(jobClass: new () => Job<P>, payloads: readonly P[], options: DispatchOptions<P>): Promise<DispatchResult[]> {
  const build = () => {
    if (!Array.isArray(payloads)) throw new TypeError('dispatchMany expects an array of payloads');
    const job = new jobClass();
    return payloads.map((p) => job.toNewJob(p, options));
  };
  if (options.transaction !== undefined) return dispatchInTransaction(build, options.transaction);
  return (async () => dispatchJobs(jobClass, build()))();
}
