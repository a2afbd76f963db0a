import type { Command } from 'commander';
import { loadJobClass } from '../../execution/job-loader.js';
import { Job, MAX_ATTEMPTS, type DispatchOptions } from '../../job.js';
import { dispatchJobs } from '../../dispatcher.js';
import { wakeUpsSent } from '../../wake/address-sender.js';
import type { JsonValue } from '../../values/json.js';
import { addStoreOptions, openConfiguredStore } from '../common.js';
import { printJson } from '../format.js';
import { duration, durationAtLeast, integerIn, json, positiveInt } from '../options.js';

interface DispatchCliOptions {
  payload?: JsonValue;
  queue?: string;
  delay?: number;
  attempts?: number;
  retryAfter?: number;
  timeout?: number;
  priority?: number;
  json?: boolean;
  databaseUrl?: string;
  jobsDir?: string;
}

export function registerDispatch(program: Command): void {
  addStoreOptions(
    program
      .command('dispatch <handler>')
      .description("Dispatch one job of a class in the jobs directory, with that class's settings; prints the new id")
      .option('--payload <json>', 'payload as JSON (default {})', json('--payload'))
      .option('--queue <name>', "queue (default: the class's)")
      .option('--delay <duration>', "delay, e.g. 30 (seconds), '+30 seconds', '2 hours' (default: the class's)", duration('--delay'))
      .option('--attempts <n>', "total runs allowed (default: the class's)", positiveInt('--attempts', MAX_ATTEMPTS))
      .option('--retry-after <duration>', "wait before each retry, e.g. 60 (seconds), '+1 minute' (default: the class's)", duration('--retry-after'))
      .option(
        '--timeout <duration>',
        "hard limit for one run, e.g. 30 (seconds), '2 minutes' (default: the class's, else start --timeout)",
        durationAtLeast('--timeout', 1, '1 ms'),
      )
      .option('--priority <n>', "-1000…1000, lower runs first (default: the class's)", integerIn('--priority', -1000, 1000))
      .option('--json', 'print {"id": N, "duplicate": false} instead of the bare id'),
  ).action(async (handler: string, opts: DispatchCliOptions) => {
    const { config, store } = await openConfiguredStore(opts, { maxConnections: 1 });
    try {
      const JobClass = await loadJobClass(config.jobsDir, handler);
      const job = new JobClass();
      if (!(job instanceof Job) && typeof (job as Partial<Job>).toNewJob !== 'function') {
        throw new TypeError(`Job handler '${handler}' does not extend Job from 'jobs-runtime'`);
      }
      const options: DispatchOptions<JsonValue> = {};
      if (opts.priority !== undefined) options.priority = opts.priority;
      if (opts.queue !== undefined) options.queue = opts.queue;
      if (opts.delay !== undefined) options.delay = opts.delay;
      if (opts.attempts !== undefined) options.attempts = opts.attempts;
      if (opts.retryAfter !== undefined) options.retryAfter = opts.retryAfter;
      if (opts.timeout !== undefined) options.timeout = opts.timeout;
      // The stored handler is the name given here: it is where the file was found.
      const row = { ...(job as Job<JsonValue>).toNewJob(opts.payload, options), handler };
      const { id, duplicate } = (await dispatchJobs(JobClass, [row], store.producer, config.lightpack))[0]!;
      if (opts.json) printJson({ id, duplicate });
      else {
        process.stdout.write(`${id}\n`);
        if (duplicate) process.stderr.write(`Not stored: job ${id} holds the same unique key, and stands\n`);
      }
      await wakeUpsSent(store.producer); // this process exits next: the wake-ups must be out first
    } finally {
      await store.close();
    }
  });
}
