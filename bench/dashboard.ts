// The dashboard's cost: render time (p50/p99, through HTTP) of the overview, a queue page and
// the failed page at 10k and 1M jobs, and the store time one open tab costs per minute (the
// overview polls every 2 s: 30 cold reads a minute, since its caches live 1–2 s), and what one
// cold Admin.counts costs. The fill is bench/dashboard-fill.ts.
//   npm run build && node --import tsx bench/dashboard.ts [--store sqlite|mysql|redis] [--sizes 10000,1000000] [--iterations 50] [--quick]
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import { statusCacheMs } from '../src/dashboard/handler.ts';
import { dashboard } from '../src/dashboard/index.ts';
import type { JobStore } from '../src/stores/store.ts';
import { fillDashboard } from './dashboard-fill.ts';
import { freshStore, pct, result, type StoreKind } from './lib.ts';

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(name);
  return i === -1 ? fallback : process.argv[i + 1]!;
};
const quick = process.argv.includes('--quick');
const kind = arg('--store', 'sqlite') as StoreKind;
const sizes = arg('--sizes', quick ? '2000' : '10000,1000000')
  .split(',')
  .map(Number);
const iterations = Number(arg('--iterations', quick ? '5' : '50'));

/** The store with every Admin and Registry call timed. */
function timed(store: JobStore): { store: JobStore; spentMs: () => number } {
  let spent = 0;
  const wrap = <T extends object>(role: T): T =>
    new Proxy(role, {
      get(target, prop, receiver) {
        const v = Reflect.get(target, prop, receiver);
        if (typeof v !== 'function') return v;
        return async (...args: unknown[]) => {
          const t0 = performance.now();
          try {
            return await v.apply(target, args);
          } finally {
            spent += performance.now() - t0;
          }
        };
      },
    });
  return { store: { ...store, displayUrl: store.displayUrl, admin: wrap(store.admin), registry: wrap(store.registry) } as JobStore, spentMs: () => spent };
}

async function serve(store: JobStore): Promise<{ server: Server; base: string }> {
  const handler = dashboard({ store, authorize: () => true });
  const server = createServer((req, res) => void handler(req, res));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

async function redisDrop(url: string): Promise<void> {
  const u = new URL(url);
  const prefix = u.searchParams.get('prefix')!;
  const client = new Redis(`redis://${u.host}${u.pathname}`);
  let cursor = '0';
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 5000);
    if (keys.length) await client.unlink(...keys);
    cursor = next;
  } while (cursor !== '0');
  client.disconnect();
}

for (const n of sizes) {
  const b = await freshStore(kind, `dash${n}`);
  try {
    const t0 = Date.now();
    await fillDashboard(b, n);
    console.log(`# ${kind}: ${n} jobs filled in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    const label = n >= 1_000_000 ? `${n / 1_000_000}m` : `${n / 1000}k`;
    // What the overview's counts cost the store when its cache is cold (once a second at most).
    const countsMs: number[] = [];
    for (let i = 0; i < Math.min(10, iterations); i++) {
      const s = performance.now();
      await b.store.admin.counts({});
      countsMs.push(performance.now() - s);
    }
    countsMs.sort((x, y) => x - y);
    result(kind, `dashboard-counts-${label}-p50`, pct(countsMs, 50), 'ms');
    const { server, base } = await serve(b.store);
    // A later page: the cursor 2,000 jobs in (keyset: any depth costs the same, see the EXPLAIN test).
    let after: string | null = null;
    for (let i = 0; i < 4; i++) after = (await b.store.admin.listJobs({ queue: 'a', state: 'waiting', limit: 500, after })).next;
    const pages: Record<string, string> = {
      overview: '/',
      queue: '/queues/a',
      'queue-later': `/queues/a?state=waiting&after=${encodeURIComponent(after ?? '')}`,
      'queue-handler': '/queues/a?state=waiting&handler=mail%2FSend',
      failed: '/failed?queue=f',
    };
    for (const [name, path] of Object.entries(pages)) {
      const ms: number[] = [];
      for (let i = 0; i < iterations; i++) {
        // Counts and throughput come from the handler's 1–2 s caches after the first request; job lists are read every time.
        const s = performance.now();
        const res = await fetch(base + path);
        await res.text();
        if (res.status !== 200) throw new Error(`${path}: ${res.status}`);
        ms.push(performance.now() - s);
      }
      ms.sort((x, y) => x - y);
      result(kind, `dashboard-${name}-${label}-p50`, pct(ms, 50), 'ms');
      result(kind, `dashboard-${name}-${label}-p99`, pct(ms, 99), 'ms');
    }
    server.close();
    // One tab: an overview poll every 2 s, each a cold read while the status read is kept less
    // than 2 s; a slow read is kept longer (statusCacheMs), so fewer polls reach the store.
    const polls = Math.min(30, iterations);
    let spent = 0;
    for (let i = 0; i < polls; i++) {
      const t = timed(b.store);
      const cold = await serve(t.store);
      await (await fetch(`${cold.base}/fragments/overview`)).text();
      cold.server.close();
      spent += t.spentMs();
    }
    const readsPerMin = 60_000 / Math.max(2000, Math.ceil(statusCacheMs(spent / polls) / 2000) * 2000);
    result(kind, `dashboard-tab-store-reads-per-min-${label}`, readsPerMin, 'reads');
    result(kind, `dashboard-tab-store-ms-per-min-${label}`, (spent / polls) * readsPerMin, 'ms');
  } finally {
    await b.drop();
    if (kind === 'redis') await redisDrop(b.url);
  }
}
process.exit(0);
