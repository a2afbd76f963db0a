import { createSocket } from 'node:dgram';
import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import { InvalidInputError } from '../errors.js';

// Which address a runtime listens on for wake-ups from other hosts (stores whose capabilities
// say crossHostWake 'address', i.e. MySQL), and the `host:port` text it registers.
// Default: the address this host uses towards the store's server (the interface peers on the
// store's network reach it by); when the store is on this host (loopback), the host's first
// non-internal IPv4 address; none at all: same-host wake-up only. `--wake-address local`
// keeps it on this host; `--wake-address host[:port]` picks the address, and a fixed port for a
// firewall rule (default: a free port chosen at each start).

export interface WakeBind {
  host: string;
  /** 0: any free port. */
  port: number;
}

/** Parses `--wake-address`: `local`, `host`, `host:port`, `[v6]`, `[v6]:port`. */
export function parseWakeAddress(text: string): WakeBind | 'local' {
  const t = text.trim();
  if (t === 'local') return 'local';
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]\s]+))(?::(\d{1,5}))?$/.exec(t);
  const port = m?.[3] === undefined ? 0 : Number(m[3]);
  if (!m || port > 65535 || (m[1] !== undefined && isIP(m[1]) !== 6)) {
    throw new InvalidInputError(`--wake-address '${text}' is not an address: use host, host:port, [ipv6]:port, or 'local' (wake-ups from this host only)`);
  }
  const host = m[1] ?? m[2]!;
  if (host === '0.0.0.0' || host === '::') {
    throw new InvalidInputError(`--wake-address ${host} names no address other hosts could send to: give the one they reach this host by (or 'local')`);
  }
  return { host, port };
}

/** `host:port` as registered ([v6]:port for IPv6). */
export function formatWakeAddress(host: string, port: number): string {
  return isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Splits a registered `host:port`; null when it is not one (a row written by hand, say). */
export function splitWakeAddress(text: string): WakeBind | null {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]\s]+)):(\d{1,5})$/.exec(text);
  if (!m) return null;
  const port = Number(m[3]);
  return port > 0 && port <= 65535 ? { host: m[1] ?? m[2]!, port } : null;
}

/** The default address (see above), or null when this host has none but loopback. */
export async function defaultWakeHost(storeUrl: string): Promise<string | null> {
  const towardsStore = await routeSource(storeHost(storeUrl));
  if (towardsStore && !isLoopback(towardsStore)) return towardsStore;
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return null;
}

function storeHost(url: string): string | null {
  try {
    return new URL(url).hostname.replace(/^\[|\]$/g, '') || null;
  } catch {
    return null;
  }
}

/** The local address the kernel would send from towards `host` (a connected UDP socket sends nothing). */
async function routeSource(host: string | null): Promise<string | null> {
  if (!host) return null;
  const socket = createSocket(isIP(host) === 6 ? 'udp6' : 'udp4');
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.connect(9, host, () => resolve());
    });
    return socket.address().address;
  } catch {
    return null; // no route, or a name that does not resolve here
  } finally {
    socket.close();
  }
}

function isLoopback(address: string): boolean {
  return address.startsWith('127.') || address === '::1';
}
