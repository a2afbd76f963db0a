// The store's own wake-up channel (JobStore.wakeChannel), which the runtime's wake-up listens
// to (wake/runtime-wake.ts): apart from Queue, since only stores with a channel offer it.

/**
 * Wake-ups carried by the store itself (Redis: pub/sub), for stores whose capabilities say
 * `crossHostWake: 'channel'`: every due dispatch signals it, on any host.
 */
export interface WakeChannel {
  /**
   * Calls `onWake` for each signal until the returned function is called; reconnects by itself.
   * `key` names the dispatch announced, as the same-host datagram does (wake/wake-message.ts).
   */
  listen(params: { onWake: (key: string | null) => void }): Promise<() => Promise<void>>;
}
