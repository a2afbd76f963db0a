// W7's BullMQ variant (run by --compare): the same server with queue.add, and a Worker of
// concurrency 2 in a process of its own, both from the peers' pinned packages (bench/.peers).
// Its own key prefix: nothing else in Redis is touched (no FLUSHALL).
//   node bench/w7-bullmq.mjs server <prefix> <runs file>   prints "listening <port>"
//   node bench/w7-bullmq.mjs worker <prefix> <runs file>   prints "ready"
import { appendFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const require = createRequire(fileURLToPath(new URL('./.peers/package.json', import.meta.url)));
const { Queue, Worker } = require('bullmq');
const [mode, prefix, file] = process.argv.slice(2);
if (!mode || !prefix || !file) throw new Error('usage: w7-bullmq.mjs server|worker <prefix> <runs file>');
const connection = { host: '127.0.0.1', port: 6379, maxRetriesPerRequest: null };
const QNAME = 'w7';

if (mode === 'server') {
  const queue = new Queue(QNAME, { connection, prefix, defaultJobOptions: { removeOnComplete: true, removeOnFail: true } });
  await queue.waitUntilReady();
  await queue.add('signup', { requestId: 'warm-up' });
  let n = 0;
  let dispatched = 0;
  const server = createServer((req, res) => {
    // Requests still in flight when autocannon stops are not in its count: the bench asks here.
    if (req.method === 'GET' && req.url === '/dispatched') return void res.end(String(dispatched));
    // Requests still in flight when autocannon stops are not in its count: the bench asks here.
    if (req.method === 'GET' && req.url === '/dispatched') return void res.end(String(dispatched));
    if (req.method !== 'POST' || req.url !== '/signup') return void res.writeHead(404).end();
    req.resume();
    req.on('end', () => {
      const requestId = `${process.pid}-${n++}`;
      queue.add('signup', { requestId }).then(
        (job) => {
          dispatched++;
          res.writeHead(202, { 'content-type': 'application/json' }).end(`{"job":"${job.id}"}`);
        },
        (e) => res.writeHead(500).end(String(e)),
      );
    });
  });
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1', () => console.log(`listening ${server.address().port}`));
  // Its keys go with it: the bench leaves nothing in the shared Redis.
  process.on('SIGTERM', () =>
    server.close(() =>
      queue
        .obliterate({ force: true })
        .then(() => queue.close())
        .then(() => process.exit(0)),
    ),
  );
} else {
  const worker = new Worker(QNAME, async (job) => void appendFileSync(file, `${job.data.requestId}\n`), { connection, prefix, concurrency: 2 });
  await worker.waitUntilReady();
  console.log('ready');
  process.on('SIGTERM', () => worker.close().then(() => process.exit(0)));
}
