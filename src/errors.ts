// Error classes with stable `name`s: errors cross the worker-thread boundary as plain data,
// so code checks `error.name`, never only `instanceof`.

/** A value given by the user (option, delay text, handler name, config) is not acceptable. */
export class InvalidInputError extends Error {
  override name = 'InvalidInputError';
}

/** Thrown by `failPermanently()` inside a job: the job fails now, with no retries left. */
export class PermanentFailure extends Error {
  override name = 'PermanentFailure';
}

/** The store cannot be used: unreachable, too old, or not migrated. The message says what to do. */
export class StoreUnavailableError extends Error {
  override name = 'StoreUnavailableError';
}

/** A job's handler file could not be found or loaded; the job fails without retries. */
export class HandlerNotFoundError extends Error {
  override name = 'HandlerNotFoundError';
}

export const PERMANENT_ERROR_NAMES: ReadonlySet<string> = new Set(['PermanentFailure', 'HandlerNotFoundError', 'InvalidPayloadError']);

/** A payload read back from the store is not valid JSON: retrying cannot fix it. */
export class InvalidPayloadError extends Error {
  override name = 'InvalidPayloadError';
}

/** waitFor() gave up: the job had not ended within the timeout. `state` says where it stood. */
export class JobWaitTimeoutError extends Error {
  override name = 'JobWaitTimeoutError';
  constructor(
    message: string,
    readonly jobId: number,
    readonly state: 'waiting' | 'running' | 'ended' | 'unknown',
  ) {
    super(message);
  }
}
