import { Redis, type RedisOptions } from 'ioredis';
import type { WakeChannel } from '../store.js';
import { wakeKeyOf } from '../../wake/wake-message.js';

// Wake-ups through Redis itself, on any host: the enqueue script PUBLISHes on `<prefix>wake`
// when it stored a job that is due now (lua/enqueue.ts), and each runtime SUBSCRIBEs on a
// connection of its own (a subscribed connection can run no other command, so it cannot share
// the store's). Nothing new to open in a firewall: the runtime's connection to Redis carries it.
// A PUBLISH that no one listens to costs Redis next to nothing.
//
// Unlike the store's connection (connection.ts), this one reconnects by itself, with a backoff,
// and ioredis subscribes again after each reconnect: while it is away the poll finds new jobs.
// Pub/sub channels are shared by every database number of one Redis: a runtime of another
// database with the same prefix would only be woken for nothing (one empty claim).

export const wakeChannelName = (prefix: string): string => `${prefix}wake`;

export class RedisWakeChannel implements WakeChannel {
  constructor(
    private readonly options: RedisOptions,
    private readonly prefix: string,
  ) {}

  async listen(params: { onWake: (key: string | null) => void }): Promise<() => Promise<void>> {
    const client = new Redis({
      ...this.options,
      lazyConnect: true,
      connectionName: 'jobs-runtime-wake',
      autoResubscribe: true,
      maxRetriesPerRequest: null,
      retryStrategy: (times) => Math.min(100 * times, 2_000),
    });
    client.on('error', () => undefined); // the claim loop reports an outage; this one just reconnects
    client.on('connect', () => client.stream?.unref());
    client.on('message', (_channel: string, message: string) => params.onWake(wakeKeyOf(message)));
    // Not awaited: with Redis away at start the subscription is made once it is back.
    client.subscribe(wakeChannelName(this.prefix)).catch(() => undefined);
    return async () => {
      client.disconnect();
      client.stream?.destroy();
    };
  }
}
