import { delayToMs, type DelayInput } from './values/duration.js';
import { InvalidInputError, PermanentFailure } from './errors.js';
import { assertHandlerName, assertQueueName } from './values/names.js';
import { serializePayload } from './values/payload.js';
import { dispatchJobs } from './dispatcher.js';
import type { JobId, NewJob } from './stores/store.js';
import type { DispatchArgs, JsonObject, JsonPayload } from './values/json.js';

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
}

/** Per-dispatch overrides of the class's settings. */
export interface DispatchOptions {
  queue?: string;
  delay?: DelayInput;
  attempts?: number;
  retryAfter?: DelayInput;
  timeout?: DelayInput;
}

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

  queue = 'default';
  /** Relative text ('+30 seconds'), ms or a Date; 'now' by default. */
  delay: DelayInput = 'now';
  /** Total runs allowed, the first one included. */
  attempts = 1;
  /** Wait before each retry. */
  retryAfter: DelayInput = 'now';
  /** Hard limit for one run; null = the runtime's --timeout. */
  timeout: DelayInput | null = null;

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

  /** Stores the job; resolves to its id as soon as it is stored. The payload may be left out only when {} is a valid P. */
  dispatch(...args: DispatchArgs<P, DispatchOptions>): Promise<JobId>;
  async dispatch(payload?: P, options: DispatchOptions = {}): Promise<JobId> {
    const [id] = await dispatchJobs(this.constructor as new () => Job<P>, [this.toNewJob(payload, options)]);
    return id!;
  }

  /** Stores many jobs of this class in one round trip (one transaction); resolves to their ids in order. */
  static async dispatchMany<P extends JsonPayload<P>>(
    this: new () => Job<P>,
    payloads: readonly NoInfer<P>[],
    options: DispatchOptions = {},
  ): Promise<JobId[]> {
    if (!Array.isArray(payloads)) throw new TypeError('dispatchMany expects an array of payloads');
    const job = new this();
    return dispatchJobs(
      this,
      payloads.map((p) => job.toNewJob(p, options)),
    );
  }

  /** The row to store: validates every setting and the payload, naming what is wrong. */
  toNewJob(payload: P | undefined, options: DispatchOptions = {}): NewJob {
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
    return {
      handler,
      queue,
      payload: serializePayload(payload === undefined ? {} : payload),
      delayMs: delayToMs(options.delay ?? this.delay, `delay of job ${handler}`),
      maxAttempts: attempts,
      retryAfterMs: delayToMs(options.retryAfter ?? this.retryAfter, `retryAfter of job ${handler}`),
      timeoutMs,
    };
  }
}
