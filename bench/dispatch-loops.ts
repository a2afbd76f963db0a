// One dispatching process under concurrent load, no runtime: 50 loops (as request handlers)
// each dispatching one job at a time for 5 s. Prints jobs/s, p50/p99 per dispatch, and on MySQL
// the INSERTs the server ran (Com_insert) and the connections it saw from the process.
//   npm run build && node --import tsx bench/dispatch-loops.ts <mysql|sqlite|redis> [seconds] [loops]
import { configure, close } from '../dist/src/index.js';
import Noop from './jobs/Noop.mjs';
import { freshStore, type StoreKind } from './lib.ts';

const [kind = 'mysql', secondsText = '5', loopsText = '50'] = process.argv.slice(2);
const seconds = Number(secondsText);
const loops = Number(loopsText);
const b = await freshStore(kind as StoreKind, 'loops');
const status = async (): Promise<{ inserts: number; connections: number }> => {
  if (kind !== 'mysql') return { inserts: Number.NaN, connections: Number.NaN };
  const mysql = (await import('mysql2/promise')).default;
  const c = await mysql.createConnection(b.url);
  try {
    const [[ins]] = (await c.query("SHOW GLOBAL STATUS LIKE 'Com_insert'")) as unknown as [[{ Value: string }]];
    const [[con]] = (await c.query('SELECT COUNT(*) - 1 AS n FROM information_schema.PROCESSLIST WHERE DB = DATABASE()')) as unknown as [[{ n: number }]];
    return { inserts: Number(ins.Value), connections: Number(con.n) };
  } finally {
    await c.end();
  }
};
try {
  process.env.JOBS_WAKE = '0'; // no runtime to wake
  const own = (await status()).connections; // the bench's own store's
  configure({ databaseUrl: b.url });
  await new Noop().dispatch({ warm: true }); // the store is open and migrated before the clock starts
  const before = await status();
  const latencies: number[] = [];
  const end = performance.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: loops }, async (_, loop) => {
      for (let i = 0; performance.now() < end; i++) {
        const t = performance.now();
        await new Noop().dispatch({ loop, i });
        latencies.push(performance.now() - t);
      }
    }),
  );
  const during = await status();
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]!.toFixed(1);
  const inserts = during.inserts - before.inserts; // Com_insert counts INSERTs only: status()'s own reads are not in it
  console.log(
    `${kind}: ${Math.round(latencies.length / seconds)} jobs/s, p50 ${at(0.5)} / p99 ${at(0.99)} ms per dispatch` +
      (kind === 'mysql'
        ? `, ${inserts} INSERTs (${(latencies.length / inserts).toFixed(1)} rows each), ${during.connections - own} connections opened by the dispatcher`
        : ''),
  );
} finally {
  await close();
  await b.drop();
}
