import type { Command } from 'commander';
import { assertQueueName } from '../../values/names.js';
import { wakeByAddress, wakeUpsSent } from '../../wake/address-sender.js';
import { wakeRuntimes } from '../../wake/wake-sender.js';
import { newWakeKey } from '../../wake/wake-message.js';
import { addStoreOptions, openConfiguredStore } from '../common.js';
import { printJson } from '../format.js';

export function registerResume(program: Command): void {
  addStoreOptions(
    program.command('resume <queue>').description('Let runtimes claim jobs of a paused queue again').option('--json', 'print the result as JSON'),
  ).action(async (queue: string, opts: { json?: boolean; databaseUrl?: string; jobsDir?: string }) => {
    assertQueueName(queue);
    const { store } = await openConfiguredStore(opts, { maxConnections: 1 });
    try {
      const changed = await store.admin.setQueuePaused({ queue, paused: false });
      if (changed) {
        // Its due jobs start now: on this host's runtimes, and on others' that registered an address.
        const key = newWakeKey(); // one key for both paths: a runtime both reach claims once
        wakeRuntimes(store.displayUrl, key);
        wakeByAddress(store.producer, key);
        await wakeUpsSent(store.producer);
      }
      if (opts.json) return printJson({ queue, paused: false, changed });
      process.stdout.write(changed ? `✔ Queue ${queue} resumed\n` : `Queue ${queue} was not paused\n`);
    } finally {
      await store.close();
    }
  });
}
