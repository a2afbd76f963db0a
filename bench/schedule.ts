// What a fair pool would have done with the jobs a run recorded, and how far the real run was
// from it. Pure functions over job-recorded times, shared by W6 and test/pool-fairness.test.ts.

/** One job as it recorded itself: its place in dispatch order, and when it started and ended (ms). */
export interface JobSpan {
  n: number;
  start: number;
  end: number;
}

/**
 * Wall time of the ideal pool for these durations in dispatch order: `slots` slots, each free slot
 * takes the next job at once, no cost per job. This is the floor a real pool is measured against.
 */
export function idealWallMs(spans: JobSpan[], slots: number): number {
  const freeAt = new Array<number>(slots).fill(0);
  for (const s of [...spans].sort((a, b) => a.n - b.n)) {
    let slot = 0;
    for (let i = 1; i < slots; i++) if (freeAt[i]! < freeAt[slot]!) slot = i;
    freeAt[slot] = freeAt[slot]! + (s.end - s.start);
  }
  return Math.max(0, ...freeAt);
}

/** How long each job started after the earliest start of any job dispatched after it (0 if none did earlier). */
export function overtakes(spans: JobSpan[]): Array<{ n: number; byMs: number }> {
  const byOrder = [...spans].sort((a, b) => a.n - b.n);
  const out: Array<{ n: number; byMs: number }> = [];
  let laterMin = Number.POSITIVE_INFINITY; // earliest start among the jobs after this one
  for (let i = byOrder.length - 1; i >= 0; i--) {
    const s = byOrder[i]!;
    out.push({ n: s.n, byMs: Math.max(0, s.start - laterMin) });
    laterMin = Math.min(laterMin, s.start);
  }
  return out.reverse();
}

/** Jobs overtaken by more than `toleranceMs`: a job dispatched after them had started that much earlier. */
export function overtaken(spans: JobSpan[], toleranceMs: number): Array<{ n: number; byMs: number }> {
  return overtakes(spans).filter((o) => o.byMs > toleranceMs);
}

/** Lines "<n> <start> <end>" as the W6 and fairness jobs append them; a job that ran twice counts by its first run. */
export function parseSpans(text: string): JobSpan[] {
  const first = new Map<number, JobSpan>();
  for (const line of text.split('\n')) {
    if (!line) continue;
    const [n, start, end] = line.split(' ').map(Number) as [number, number, number];
    const seen = first.get(n);
    if (!seen || start < seen.start) first.set(n, { n, start, end });
  }
  return [...first.values()];
}

/** A fixed pseudo-random sequence in [0, 1) (mulberry32): the same mix in the same order on every run. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
