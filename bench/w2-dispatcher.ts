// The W2 dispatcher, a process of its own as an application would be:
//   node --import tsx bench/w2-dispatcher.ts <store url> <count> <latency file>
import { openStore, useStore, close } from 'jobs-runtime';
import Pickup from './jobs/Pickup.mjs';

const [url, countText, file] = process.argv.slice(2);
if (!url || !countText || !file) throw new Error('usage: w2-dispatcher.ts <store url> <count> <latency file>');
const store = await openStore(url);
useStore(store);
await store.producer.maxPayloadBytes(); // connected before the first timed dispatch, as the peers wait for their queue to be ready
const start = performance.now() + 50;
for (let i = 0; i < Number(countText); i++) {
  const wait = start + i * 20 - performance.now();
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  await new Pickup().dispatch({ t: performance.timeOrigin + performance.now(), file });
}
await close();
