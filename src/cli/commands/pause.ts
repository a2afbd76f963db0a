import type { Command } from 'commander';
import { assertQueueName } from '../../values/names.js';
import { InvalidInputError } from '../../errors.js';
import { addStoreOptions, openConfiguredStore } from '../common.js';
import { printJson } from '../format.js';

export function registerPause(program: Command): void {
  addStoreOptions(
    program
      .command('pause <queue>')
      .description('Stop every runtime, on every host, from claiming jobs of a queue (running ones finish); `resume` undoes it')
      .option('--json', 'print the result as JSON'),
  ).action(async (queue: string, opts: { json?: boolean; databaseUrl?: string; jobsDir?: string }) => {
    assertQueueName(queue);
    const { config, store } = await openConfiguredStore(opts, { maxConnections: 1 });
    try {
      if (config.lightpack?.queues.includes(queue)) {
        // PHP workers never read jobs-runtime's pause table: a pause would show PAUSED while they run on.
        throw new InvalidInputError(
          `Queue ${queue} is run by Lightpack's PHP workers (lightpack.queues), which do not honour jobs-runtime's pauses: ` +
            'stop its PHP workers (`php console jobs:run --queue=' +
            queue +
            '`) to pause it',
        );
      }
      const changed = await store.admin.setQueuePaused({ queue, paused: true });
      // Paused all the same (jobs may be dispatched to it later), but a typo should not pass unseen.
      const [jobs, runtimes] = await Promise.all([store.admin.counts({ queues: [queue] }), store.registry.listRuntimes({})]);
      const php = (await store.admin.foreignHandlerQueues?.())?.find((f) => f.queue === queue);
      if (php) {
        process.stderr.write(
          `! Queue ${queue} holds Lightpack (PHP) jobs (${php.jobs}, e.g. ${php.example}): PHP workers do not honour this pause, only jobs-runtime's runtimes do\n`,
        );
      }
      if (jobs.length === 0 && !runtimes.some((r) => r.queues?.includes(queue))) {
        process.stderr.write(`! No job and no runtime knows a queue '${queue}' (a typo?): it is paused for jobs dispatched to it later\n`);
      }
      if (opts.json) return printJson({ queue, paused: true, changed });
      process.stdout.write(
        changed
          ? `✔ Queue ${queue} paused: runtimes claim none of its jobs from their next poll on; \`jobs-runtime resume ${queue}\` undoes it\n`
          : `Queue ${queue} was already paused\n`,
      );
    } finally {
      await store.close();
    }
  });
}
