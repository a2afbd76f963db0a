import { createSocket, type Socket } from 'node:dgram';
import { readdirSync } from 'node:fs';
import { wakeDir, wakeEnabled } from './wake-dir.js';
import { wakeMessage } from './wake-message.js';

// After a dispatch of due work, a small UDP datagram (the dispatch's key, wake-message.ts) to each idle runtime of the same store
// on this host ends its poll sleep at once. Fire and forget: a lost datagram or a runtime on
// another host only means the job waits for the next poll. Costs nothing when no runtime
// listens (one directory read per second per store).

const LISTING_TTL_MS = 1000;
const listings = new Map<string, { at: number; ports: number[] }>();
let socket: Socket | null = null;

function ports(storeKey: string): number[] {
  const now = Date.now();
  const cached = listings.get(storeKey);
  if (cached && now - cached.at < LISTING_TTL_MS) return cached.ports;
  let found: number[] = [];
  try {
    found = readdirSync(wakeDir(storeKey))
      .map((f) => Number(f.split('-')[0]))
      .filter((p) => Number.isInteger(p) && p > 0 && p < 65536);
  } catch {
    // no runtime has listened for this store on this host
  }
  listings.set(storeKey, { at: now, ports: found });
  return found;
}

/** `key`: the dispatch announced (wake-message.ts). */
export function wakeRuntimes(storeKey: string, key: string | null = null): void {
  if (!wakeEnabled()) return;
  const targets = ports(storeKey);
  if (targets.length === 0) return;
  if (!socket) {
    socket = createSocket('udp4');
    socket.on('error', () => undefined); // a closed port answers ICMP; nothing to do
    socket.unref(); // never keeps the application alive
  }
  const message = wakeMessage(key);
  for (const port of targets) socket.send(message, port, '127.0.0.1');
}
