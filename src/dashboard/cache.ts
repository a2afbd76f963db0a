// Reads shared by every tab a handler serves, kept for a second or two: a dozen open tabs then
// cost the database what one does. Keyed by what was asked (a queue, a window, a filter);
// an action clears it all, so the page it redirects to shows the change.

export class ReadCache {
  private readonly entries = new Map<string, { at: number; value: Promise<unknown> }>();

  constructor(private readonly ttlMs: number) {}

  /** The value read less than ttlMs ago for `key`, or a new read (shared by callers meanwhile). */
  get<T>(key: string, read: () => Promise<T>): Promise<T> {
    const now = Date.now();
    const hit = this.entries.get(key);
    if (hit && now - hit.at < this.ttlMs) return hit.value as Promise<T>;
    const value = read();
    this.entries.set(key, { at: now, value });
    // A failed read is not kept: the next request tries again.
    value.catch(() => {
      if (this.entries.get(key)?.value === value) this.entries.delete(key);
    });
    if (this.entries.size > 500) for (const [k, e] of this.entries) if (now - e.at >= this.ttlMs) this.entries.delete(k);
    return value;
  }

  clear(): void {
    this.entries.clear();
  }
}
