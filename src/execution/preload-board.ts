// Each thread imports every job file in the background when it starts (a handler's first job
// then finds its code loaded). A job file whose import never ends (an endless loop at top level)
// would freeze every thread that way, before any job names it. So each thread notes here which
// file it is importing, and while it does its event loop stamps the entry every
// ALIVE_STAMP_MS. A thread moves on by itself from an import that awaits something that never
// comes (PRELOAD_WAIT_MS in job-loader); one whose stamp stops is frozen (an endless loop in the
// file's top level), so the master terminates it and adds the file to the skip list, which the
// replacement thread and the others read: the file is then loaded only by the jobs that name it,
// under their load limit. Jobs that were loading on the frozen thread run again elsewhere. A job
// of that thread running synchronous code stops the stamps too: while one runs there, the
// thread is given the load limit before it is called frozen.

export const ALIVE_STAMP_MS = 250;
/** A thread whose preload has not stamped its entry for this long cannot run its event loop. */
export const FROZEN_PRELOAD_MS = 2_000;

// Per thread entry: Int32 thread id (0: free), Int32 hash of the file's handler (0: none), Int32 alive at.
const ENTRY = 3;
const ENTRIES = 256;
const SKIPS = 64;

export class PreloadBoard {
  private readonly cells: Int32Array;

  constructor(
    readonly buffer: SharedArrayBuffer,
    readonly epoch: number,
  ) {
    this.cells = new Int32Array(buffer);
  }

  static allocate(): PreloadBoard {
    return new PreloadBoard(new SharedArrayBuffer((1 + ENTRIES * ENTRY + 1 + SKIPS) * 4), Date.now());
  }

  /** A thread's entry, taken once when the thread starts (entries of dead threads are reused in turn). */
  entryFor(threadId: number): number {
    const entry = Atomics.add(this.cells, 0, 1) % ENTRIES;
    Atomics.store(this.cells, 1 + entry * ENTRY, threadId);
    return entry;
  }

  /** The thread starts importing `handler`'s file. */
  begin(entry: number, handler: string): void {
    this.stamp(entry);
    Atomics.store(this.cells, 1 + entry * ENTRY + 1, hash(handler));
  }

  /** The thread's event loop still runs. */
  stamp(entry: number): void {
    Atomics.store(this.cells, 1 + entry * ENTRY + 2, this.clock());
  }

  end(entry: number): void {
    Atomics.store(this.cells, 1 + entry * ENTRY + 1, 0);
  }

  isSkipped(handler: string): boolean {
    const h = hash(handler);
    const n = Math.min(SKIPS, Atomics.load(this.cells, this.skipBase()));
    for (let i = 0; i < n; i++) if (Atomics.load(this.cells, this.skipBase() + 1 + i) === h) return true;
    return false;
  }

  /** Whether the thread is importing job files at start. */
  isPreloading(threadId: number): boolean {
    for (let entry = 0; entry < ENTRIES; entry++) {
      const base = 1 + entry * ENTRY;
      if (Atomics.load(this.cells, base) === threadId && Atomics.load(this.cells, base + 1) !== 0) return true;
    }
    return false;
  }

  /** Threads whose preload has not stamped its entry for `limitMs` or more: possibly frozen by the file it imports. */
  silent(limitMs: number): Array<{ entry: number; threadId: number; silentMs: number }> {
    const found = [];
    const now = this.clock();
    for (let entry = 0; entry < ENTRIES; entry++) {
      const base = 1 + entry * ENTRY;
      if (Atomics.load(this.cells, base + 1) === 0) continue;
      const silentMs = (now - Atomics.load(this.cells, base + 2)) >>> 0;
      if (silentMs >= limitMs) found.push({ entry, threadId: Atomics.load(this.cells, base), silentMs });
    }
    return found;
  }

  /** The file `entry`'s thread is importing froze it: every later preload skips it. False if the import ended meanwhile. */
  condemn(entry: number): boolean {
    const base = 1 + entry * ENTRY;
    const h = Atomics.load(this.cells, base + 1);
    if (h === 0 || Atomics.compareExchange(this.cells, base + 1, h, 0) !== h) return false;
    this.skip(h);
    return true;
  }

  private skip(h: number): void {
    const i = Atomics.add(this.cells, this.skipBase(), 1);
    if (i < SKIPS) Atomics.store(this.cells, this.skipBase() + 1 + i, h);
  }

  private skipBase(): number {
    return 1 + ENTRIES * ENTRY;
  }

  private clock(): number {
    return (Date.now() - this.epoch) | 0;
  }
}

/** FNV-1a, never 0 (0 marks a free entry). A collision only keeps a file from being preloaded. */
function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h | 1;
}
