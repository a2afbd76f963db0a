import type { Command } from 'commander';
import { timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import { dashboard } from '../../dashboard/index.js';
import { normalizeBasePath } from '../../dashboard/request.js';
import { InvalidInputError } from '../../errors.js';
import { addStoreOptions, openConfiguredStore } from '../common.js';
import { port } from '../options.js';

// `jobs-runtime dashboard`: the same handler as `jobs-runtime/dashboard`, on its own HTTP
// server. It binds to 127.0.0.1 unless told otherwise; another address needs a token (asked by
// the browser as the password of HTTP basic auth, or sent as `Authorization: Bearer <token>`).

interface DashboardCliOptions {
  port: number;
  host: string;
  readOnly?: boolean;
  basePath?: string;
  token?: string;
  databaseUrl?: string;
  jobsDir?: string;
}

export function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1' || host === '[::1]';
}

/** True when the request carries the token, as a bearer token or as basic auth's password. */
export function hasToken(req: IncomingMessage, token: string): boolean {
  const header = req.headers.authorization ?? '';
  let given: string | null = null;
  if (/^Bearer /i.test(header)) given = header.slice(7).trim();
  else if (/^Basic /i.test(header)) {
    const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
    given = decoded.slice(decoded.indexOf(':') + 1);
  }
  if (given === null) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

export function registerDashboard(program: Command): void {
  addStoreOptions(
    program
      .command('dashboard')
      .description('Serve the web dashboard (runtimes, queues, failed jobs; retry, forget, pause, resume) on 127.0.0.1 by default')
      .option('--port <n>', 'TCP port', port('--port'), 9470)
      .option('--host <address>', 'address to bind; anything but loopback needs --token', '127.0.0.1')
      .option('--read-only', 'hide and refuse every action (retry, forget, pause, resume)')
      .option('--base-path <path>', 'serve under this URL path, e.g. /jobs (behind a proxy)')
      .option('--token <token>', 'require this token (basic-auth password or bearer token); default: JOBS_DASHBOARD_TOKEN'),
  ).action(async (opts: DashboardCliOptions) => {
    const token = opts.token ?? process.env.JOBS_DASHBOARD_TOKEN ?? undefined;
    if (!token && !isLoopback(opts.host)) {
      throw new InvalidInputError(
        `Refusing to serve the dashboard on ${opts.host} without credentials: anyone who reaches that address could retry and delete jobs. ` +
          'Give --token <secret> (or JOBS_DASHBOARD_TOKEN), or bind to 127.0.0.1 and reach it through an SSH tunnel or an authenticating proxy.',
      );
    }
    const basePath = normalizeBasePath(opts.basePath ?? '');
    const { store } = await openConfiguredStore(opts, { maxConnections: 2, callTimeoutMs: 5000 });
    const handler = dashboard({ store, authorize: () => true, readOnly: opts.readOnly === true, basePath });
    const server = createServer((req, res) => {
      if (token && !hasToken(req, token)) {
        res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="jobs-runtime dashboard", charset="UTF-8"', 'Content-Type': 'text/plain; charset=utf-8' });
        res.end('Unauthorised: this dashboard needs its token (as the basic-auth password, or `Authorization: Bearer <token>`).\n');
        return;
      }
      const path = (req.url ?? '/').split('?')[0]!;
      if (basePath && path !== basePath && !path.startsWith(`${basePath}/`)) {
        res.writeHead(path === '/' ? 302 : 404, { Location: `${basePath}/`, 'Content-Type': 'text/plain; charset=utf-8' });
        res.end(path === '/' ? '' : `Not found: the dashboard is under ${basePath}/\n`);
        return;
      }
      void handler(req, res);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port, opts.host, resolve);
    });
    const shown = opts.host.includes(':') && !opts.host.startsWith('[') ? `[${opts.host}]` : opts.host;
    process.stdout.write(
      `Dashboard for ${store.displayUrl} at http://${shown}:${opts.port}${basePath}/${opts.readOnly ? ' (read-only)' : ''}${token ? ' (token required)' : ''}\n`,
    );
    await new Promise<void>((resolve) => {
      const stop = () => resolve();
      process.once('SIGTERM', stop);
      process.once('SIGINT', stop);
    });
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await store.close();
  });
}
