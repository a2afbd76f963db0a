import { createSocket, type Socket } from 'node:dgram';
import { isIP } from 'node:net';
import type { Producer } from '../stores/store.js';
import { splitWakeAddress, type WakeBind } from './wake-address.js';
import { wakeEnabled } from './wake-dir.js';
import { wakeMessage } from './wake-message.js';

// After a dispatch of due work on a store whose runtimes register a wake-up address (MySQL), a
// small UDP datagram (the dispatch's key, wake-message.ts) to each address, whatever host it is on. The addresses come from the
// store's runtime registry, read at most once per LIST_TTL_MS, in the background: a dispatch
// itself only looks at the cached list and sends. The first dispatch of a process has no list
// yet; it asks for one (alongside its insert), and the datagrams go out as soon as it comes.
// A command that exits right after dispatching waits for that (wakeUpsSent). Fire and forget: a lost
// datagram or an address that no longer listens only means the job waits for the next poll.

const LIST_TTL_MS = 5_000;

interface Listing {
  targets: WakeBind[];
  /** When the list was read (0: never). */
  at: number;
  refreshing: Promise<void> | null;
  /** Dispatches that came while no list had been read yet, by key: sent once it comes. */
  owed: Array<string | null>;
}

const listings = new WeakMap<Producer, Listing>();
const sockets: Partial<Record<'udp4' | 'udp6', Socket>> = {};

/** Starts reading the addresses in the background when the cached list is missing or stale. */
export function refreshWakeAddresses(producer: Producer): void {
  const l = listing(producer);
  if (l && !l.refreshing && Date.now() - l.at >= LIST_TTL_MS) l.refreshing = refresh(producer, l);
}

/** Sends a wake-up (`key`: the dispatch, wake-message.ts) to every registered address, once the list is read. */
export function wakeByAddress(producer: Producer, key: string | null = null): void {
  const l = listing(producer);
  if (!l) return;
  if (l.at === 0) {
    if (l.owed.length < 8) l.owed.push(key); // a few are enough: the first claim takes them all
  } else send(l.targets, key);
  refreshWakeAddresses(producer);
}

/** Resolves once wake-ups owed to a list still being read are sent (a CLI command about to exit). */
export async function wakeUpsSent(producer: Producer): Promise<void> {
  await listings.get(producer)?.refreshing;
}

function listing(producer: Producer): Listing | null {
  if (!wakeEnabled() || !producer.wakeAddresses) return null;
  let l = listings.get(producer);
  if (!l) {
    l = { targets: [], at: 0, refreshing: null, owed: [] };
    listings.set(producer, l);
  }
  return l;
}

async function refresh(producer: Producer, l: Listing): Promise<void> {
  try {
    const list = await producer.wakeAddresses!({});
    l.targets = list.map(splitWakeAddress).filter((t): t is WakeBind => t !== null);
  } catch {
    // An un-migrated table, the store away: the dispatch itself reports real trouble.
  }
  l.at = Date.now();
  l.refreshing = null;
  for (const key of l.owed.splice(0)) send(l.targets, key);
}

function send(targets: WakeBind[], key: string | null): void {
  const message = wakeMessage(key);
  for (const t of targets) {
    const type = isIP(t.host) === 6 ? 'udp6' : 'udp4';
    let socket = sockets[type];
    if (!socket) {
      socket = createSocket(type);
      socket.on('error', () => undefined); // an unreachable address answers ICMP; nothing to do
      socket.unref(); // never keeps the application alive
      sockets[type] = socket;
    }
    socket.send(message, t.port, t.host);
  }
}
