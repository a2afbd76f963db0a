// W7's web server, a process of its own as an application is (node:http, no framework):
// POST /signup dispatches one SignupMail job whose payload holds the request's id, and answers
// 202 with it. The store comes from JOBS_DATABASE_URL with the dispatcher's defaults, as an app
// that only sets the URL gets them.
//   node bench/w7-server.mjs <runs file>     prints "listening <port>" once ready
import { createServer } from 'node:http';
import SignupMail from './jobs/SignupMail.mjs';

const file = process.argv[2];
if (!file) throw new Error('usage: w7-server.mjs <runs file>');
const prefix = `${process.pid}-`;
let n = 0;
let dispatched = 0;
let settled = 0;
/** GET /dispatched answers once no dispatch is in flight: ones started before the load stopped are counted too. */
let waiters = [];
const answerWhenIdle = () => {
  if (settled < n) return;
  for (const res of waiters) res.end(String(dispatched));
  waiters = [];
};
// One job before listening: the store's connections are open when the load starts (counted by the bench).
await new SignupMail().dispatch({ requestId: 'warm-up', file });

const server = createServer((req, res) => {
  // Requests still in flight when autocannon stops are not in its count: the bench asks here.
  if (req.method === 'GET' && req.url === '/dispatched') {
    waiters.push(res);
    return void answerWhenIdle();
  }
  if (req.method !== 'POST' || req.url !== '/signup') return void res.writeHead(404).end();
  req.resume(); // the body (the sign-up form) is not needed here
  req.on('end', () => {
    const requestId = `${prefix}${n++}`;
    new SignupMail().dispatch({ requestId, file }).then(
      (id) => {
        dispatched++;
        settled++;
        res.writeHead(202, { 'content-type': 'application/json' }).end(`{"job":${id}}`);
        answerWhenIdle();
      },
      (e) => {
        settled++;
        res.writeHead(500).end(String(e));
        answerWhenIdle();
      },
    );
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => console.log(`listening ${server.address().port}`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
