// W4: what one dispatch() costs the application: p50/p99 of single calls, one after another.
import Noop from '../jobs/Noop.mjs';
import { freshStore, now, pct, result, type StoreKind } from '../lib.ts';

export async function w4(kind: StoreKind, calls: number): Promise<{ p50: number; p99: number }> {
  const b = await freshStore(kind, 'w4');
  try {
    for (let i = 0; i < 50; i++) await new Noop().dispatch({ warm: i }); // connections open, code warm
    const times: number[] = [];
    for (let i = 0; i < calls; i++) {
      const t = now();
      await new Noop().dispatch({ i });
      times.push(now() - t);
    }
    times.sort((x, y) => x - y);
    const r = { p50: pct(times, 50), p99: pct(times, 99) };
    result(kind, 'w4-dispatch-p99', r.p99, 'ms');
    result(kind, 'w4-dispatch-p50', r.p50, 'ms');
    return r;
  } finally {
    await b.drop();
  }
}
