import { createSocket, type Socket } from 'node:dgram';
import { isIP } from 'node:net';
import { formatWakeAddress, type WakeBind } from './wake-address.js';
import { wakeKeyOf } from './wake-message.js';

// The runtime's UDP socket for wake-ups from other hosts: bound on one address (never every
// interface), its `host:port` registered in the store's runtime registry for dispatchers to
// read. A datagram carries at most the key of the dispatch it announces (wake-message.ts) and
// grants nothing: it only makes an idle runtime claim now (through a WakeCoalescer, so a flood
// costs a bounded number of claims).

export class NetworkWakeListener {
  private socket: Socket | null = null;

  constructor(private readonly onWake: (key: string | null) => void) {}

  /** Binds on `bind` and returns the address to register (`host:port`). */
  async start(bind: WakeBind): Promise<string> {
    const socket = createSocket(isIP(bind.host) === 6 ? 'udp6' : 'udp4');
    socket.on('message', (msg) => this.onWake(wakeKeyOf(msg)));
    socket.on('error', () => undefined); // a bound UDP socket has no error worth stopping for
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(bind.port, bind.host, () => resolve());
    }).catch((e) => {
      socket.close();
      throw e;
    });
    socket.unref();
    this.socket = socket;
    return formatWakeAddress(bind.host, socket.address().port);
  }

  close(): void {
    this.socket?.close();
    this.socket = null;
  }
}
