// The dashboard's cost: render time (p50/p99, through HTTP) of the overview, a queue page and
// the failed page at 10k and 1M jobs, and the store time one open tab costs per minute (the
// overview polls every 2 s: 30 cold reads a minute, since its caches live 1–2 s).
//   npm run build && node --import tsx bench/dashboard.ts [--store sqlite|mysql|redis] [--sizes 10000,1000000] [--iterations 50] [--quick]
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import { dashboard } from '../src/dashboard/index.ts';
import type { JobStore } from '../src/stores/store.ts';
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

/** `n` jobs on queue 'a': a tenth failed, the rest waiting at priorities −2…2; some throughput counted. */
async function fill(store: JobStore, n: number): Promise<void> {
  const CHUNK = 5000;
  for (let done = 0; done < n; done += CHUNK) {
    const k = Math.min(CHUNK, n - done);
    await store.producer.enqueue({
      jobs: Array.from({ length: k }, (_, i) => ({
        handler: i % 10 === 0 ? 'mail/Send' : 'Ok',
        queue: (done + i) % 10 === 0 ? 'f' : 'a',
        payload: '{"n":1}',
        delayMs: 0,
        maxAttempts: 1,
        retryAfterMs: 0,
        timeoutMs: null,
        priority: ((done + i) % 5) - 2,
      })),
    });
  }
  for (;;) {
    const claimed = await store.queue.claim({ owner: 'bench', queues: ['f'], limit: 1000 });
    if (claimed.length === 0) break;
    await store.queue.record({
      owner: 'bench',
      results: claimed.map((c) => ({ id: c.id, token: c.token, queue: 'f', outcome: 'failed' as const, error: 'Error: bench' })),
    });
  }
}

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
    await fill(b.store, n);
    console.log(`# ${kind}: ${n} jobs filled in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    const label = n >= 1_000_000 ? `${n / 1_000_000}m` : `${n / 1000}k`;
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
    // One tab: 30 overview polls a minute, each a cold read (the caches live 1–2 s, polls come every 2 s).
    const polls = Math.min(30, iterations);
    let spent = 0;
    for (let i = 0; i < polls; i++) {
      const t = timed(b.store);
      const cold = await serve(t.store);
      await (await fetch(`${cold.base}/fragments/overview`)).text();
      cold.server.close();
      spent += t.spentMs();
    }
    result(kind, `dashboard-tab-store-ms-per-min-${label}`, (spent / polls) * 30, 'ms');
  } finally {
    await b.drop();
    if (kind === 'redis') await redisDrop(b.url);
  }
}
process.exit(0);
