// W6 mixed: N async jobs, 98 % of 2 ms and 2 % of 2 s (no CPU), interleaved in a fixed
// pseudo-random order, enqueued while the runtime idles, then processed by `start --procs 4`
// at `--concurrency` 1 and 4. Figures: wall time from the wake-up until the store holds no job;
// the ideal pool's wall time for the recorded durations in the same order (bench/schedule.ts);
// their ratio (target ≤ 1.1); jobs overtaken, i.e. started more than 100 ms after a job
// dispatched after them had started (target 0), and the longest such wait.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { wakeRuntimes } from '../../dist/src/wake/wake-sender.js';
import Mixed from '../jobs/Mixed.mjs';
import { freshStore, logSize, now, result, startRuntime, waitUntilDone, type StoreKind } from '../lib.ts';
import { idealWallMs, overtaken, overtakes, parseSpans, seededRandom } from '../schedule.ts';

const PROCS = 4;
const SHORT_MS = 2;
const LONG_SHARE = 0.02;
const OVERTAKE_TOLERANCE_MS = 100;
const SEED = 6;

export interface W6Size {
  jobs: number;
  /** 2,000 in the real run; the smoke test's quick run makes it shorter. */
  longMs: number;
}

export interface W6Figures {
  wallS: number;
  idealS: number;
  ratio: number;
  overtaken: number;
  worstOvertakeMs: number;
}

/** The mix in dispatch order: exactly 2 % long jobs, at seeded positions. */
export function w6Durations({ jobs, longMs }: W6Size): number[] {
  const order = Array.from({ length: jobs }, (_, i) => i);
  const random = seededRandom(SEED);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const long = new Set(order.slice(0, Math.round(jobs * LONG_SHARE)));
  return Array.from({ length: jobs }, (_, n) => (long.has(n) ? longMs : SHORT_MS));
}

export async function w6(kind: StoreKind, size: W6Size, concurrency: number): Promise<W6Figures> {
  const name = concurrency === 1 ? 'w6' : `w6-c${concurrency}`;
  const b = await freshStore(kind, name.replace('-', '_'));
  const dir = mkdtempSync(join(tmpdir(), 'jr-w6-'));
  const file = join(dir, 'spans.txt');
  const runtime = startRuntime(b.url, ['--procs', String(PROCS), '--concurrency', String(concurrency), '--sleep', '600']);
  try {
    await runtime.ready;
    process.env.JOBS_WAKE = '0'; // enqueued while the runtime idles: it starts on the wake-up below
    const payloads = w6Durations(size).map((ms, n) => ({ n, ms, file }));
    for (let i = 0; i < payloads.length; i += 1000) await Mixed.dispatchMany(payloads.slice(i, i + 1000));
    process.env.JOBS_WAKE = '1';
    const log = { file: runtime.logFile, fromByte: logSize(runtime.logFile), expectedLines: size.jobs };
    const t0 = now();
    wakeRuntimes(b.store.displayUrl);
    // Bounded: a minute plus four times the floor (all work spread evenly over the slots).
    const wallMs = (await waitUntilDone(b, 60_000 + (payloads.reduce((s, p) => s + p.ms, 0) / (PROCS * concurrency)) * 4, { log, everyMs: 20 })) - t0;
    const spans = parseSpans(readFileSync(file, 'utf8'));
    if (spans.length < size.jobs) throw new Error(`only ${spans.length} of ${size.jobs} W6 jobs recorded their run`);
    const idealMs = idealWallMs(spans, PROCS * concurrency);
    const f: W6Figures = {
      wallS: wallMs / 1000,
      idealS: idealMs / 1000,
      ratio: wallMs / idealMs,
      overtaken: overtaken(spans, OVERTAKE_TOLERANCE_MS).length,
      worstOvertakeMs: Math.max(0, ...overtakes(spans).map((o) => o.byMs)),
    };
    result(kind, `${name}-wall`, f.wallS, 's');
    result(kind, `${name}-ideal`, f.idealS, 's');
    result(kind, `${name}-ratio`, f.ratio, 'x');
    result(kind, `${name}-overtaken`, f.overtaken, 'jobs');
    result(kind, `${name}-worst-overtake`, f.worstOvertakeMs, 'ms');
    return f;
  } finally {
    await runtime.stop();
    await b.drop();
    // JOBS_BENCH_KEEP_LOGS keeps the jobs' own record too, for a look at who waited behind whom.
    if (process.env.JOBS_BENCH_KEEP_LOGS) console.log(`# W6 job spans kept in ${file}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}
