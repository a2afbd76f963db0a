import { randomBytes } from 'node:crypto';

// What a wake-up carries: a key naming the dispatch it announces (its first job id, or a random
// one for a retry or a resume). A runtime is often reached by two paths for one dispatch, the
// same-host datagram and the store's own (Redis pub/sub, or the address a MySQL runtime
// registers); the key lets it claim once instead of twice, and a second claim per dispatch
// also spent a second wake-up token, so at 50 dispatches/s every wake-up waited ~10 ms for one.
// The key grants nothing (a runtime only claims sooner); a message without one (an older
// sender's one-byte ping) is a plain wake-up.

const PING = Buffer.from([1]);
/** Printable ASCII, no spaces: job ids and hex. */
const KEY = /^[!-~]{1,40}$/;
/** Keys remembered: duplicates arrive within milliseconds of each other. */
const REMEMBERED = 64;

export function wakeMessage(key: string | null): Buffer {
  return key !== null && KEY.test(key) ? Buffer.from(key, 'latin1') : PING;
}

/** The key of a received datagram or channel message; null for a plain wake-up. */
export function wakeKeyOf(message: Buffer | string): string | null {
  const text = typeof message === 'string' ? message : message.length <= 40 ? message.toString('latin1') : '';
  return KEY.test(text) && text !== '1' ? text : null; // '1': what an older Redis store publishes
}

/** A key for a wake-up that announces no dispatch of its own (a retry, a resume). */
export function newWakeKey(): string {
  return `w${randomBytes(6).toString('hex')}`;
}

/** The last REMEMBERED keys seen. */
export class RecentWakeKeys {
  private readonly keys = new Set<string>();

  /** True when `key` was seen already; remembers it otherwise. */
  seen(key: string): boolean {
    if (this.keys.has(key)) return true;
    this.keys.add(key);
    if (this.keys.size > REMEMBERED) this.keys.delete(this.keys.values().next().value as string);
    return false;
  }
}
