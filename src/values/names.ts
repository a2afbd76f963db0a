import { InvalidInputError } from '../errors.js';

// Handler names become file paths inside the jobs directory, so only identifier segments are
// allowed: 'SendMail' or 'mail/SendMail'. No '..', no absolute paths, no extensions.
const SEGMENT = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
export const MAX_HANDLER_LENGTH = 255;

export function assertHandlerName(name: unknown): asserts name is string {
  if (typeof name !== 'string' || name.length === 0) {
    throw new InvalidInputError(`Invalid job handler name ${JSON.stringify(name)}: it must be a non-empty string`);
  }
  if (name.includes('\\')) {
    // Lightpack stores the PHP class name: such a row is a PHP worker's, unless Node took the class over.
    throw new InvalidInputError(
      `Job handler '${name}' is a Lightpack (PHP) job class, not a job file of jobs-runtime: leave its queue to PHP workers ` +
        `(lightpack.queues in jobs.config.*, or --lightpack-queues), or map the class to a Node job (lightpack.map: { '${name.replace(/\\/g, '\\\\')}': 'SendMail' })`,
    );
  }
  if (name.length > MAX_HANDLER_LENGTH || !name.split('/').every((s) => SEGMENT.test(s))) {
    throw new InvalidInputError(
      `Invalid job handler name '${name}': use an identifier like 'SendMail' or a path of identifiers ` +
        `inside the jobs directory like 'mail/SendMail' (no '..', no absolute path, no extension, at most ${MAX_HANDLER_LENGTH} characters)`,
    );
  }
}

// Queue names appear in CLI lists (comma separated) and in Redis keys: keep them simple.
const QUEUE = /^[A-Za-z0-9_.:-]{1,64}$/;

export function assertQueueName(name: unknown): asserts name is string {
  if (typeof name !== 'string' || !QUEUE.test(name)) {
    throw new InvalidInputError(`Invalid queue name ${JSON.stringify(name)}: use 1 to 64 characters from letters, digits, '_', '-', '.', ':'`);
  }
}

/** Parses '--queue a,b' into an ordered, de-duplicated list. */
export function parseQueueList(text: string): string[] {
  const names = text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  if (names.length === 0) throw new InvalidInputError(`Invalid --queue '${text}': give one or more queue names, comma separated`);
  names.forEach(assertQueueName);
  return [...new Set(names)];
}

// Schedule keys are shown by the CLI, given to `schedules run <key>` in a shell and used in Redis
// keys: letters, digits and a few separators. '/' and '#' are in, since a static schedule's
// default key is its handler ('mail/SendMail') plus '#n' for the n-th of a list.
const SCHEDULE_KEY = /^[A-Za-z0-9_][A-Za-z0-9_.:/#@-]{0,127}$/;

export function assertScheduleKey(key: unknown): asserts key is string {
  if (typeof key !== 'string' || !SCHEDULE_KEY.test(key) || key.includes('..')) {
    throw new InvalidInputError(
      `Invalid schedule key ${JSON.stringify(key)}: use 1 to 128 characters from letters, digits, '_', '-', '.', ':', '/', '#', '@', ` +
        `starting with a letter, digit or '_' (no '..')`,
    );
  }
}
