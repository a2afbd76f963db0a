import { StoreUnavailableError } from '../../errors.js';
import { COMMAND_TIMEOUT_MS } from './connection.js';
import { isLocalUrl } from '../url-in-messages.js';

// Turns what ioredis and Redis report into errors that say what to do. Anything that means
// "this store cannot be used right now" becomes StoreUnavailableError: the runtime backs off and
// retries those, and an application sees one error class to catch.

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

export function explainRedisError(e: unknown, displayUrl: string): unknown {
  if (!(e instanceof Error) || e instanceof StoreUnavailableError) return e;
  const code = (e as { code?: unknown }).code;
  const msg = e.message;
  if (
    (typeof code === 'string' && NETWORK_CODES.has(code)) ||
    e.name === 'ConnectTimeoutError' ||
    e.name === 'MaxRetriesPerRequestError' ||
    msg === 'Connection is closed.' ||
    msg.startsWith("Stream isn't writeable")
  ) {
    return new StoreUnavailableError(unreachableRedis(displayUrl, typeof code === 'string' ? code : msg));
  }
  if (msg === 'Command timed out') {
    return new StoreUnavailableError(`Redis at ${displayUrl} did not answer within ${COMMAND_TIMEOUT_MS / 1000} s: is it overloaded or stopped?`);
  }
  const reply = /^([A-Z]+)\b/.exec(msg)?.[1];
  switch (reply) {
    case 'WRONGPASS':
    case 'NOAUTH':
    case 'NOPERM':
      return new StoreUnavailableError(`Redis at ${displayUrl} refused access (${msg}): check the user and password in the URL and its ACL`);
    case 'OOM':
      return new StoreUnavailableError(
        `Redis at ${displayUrl} is out of memory (maxmemory reached): jobs cannot be stored until memory is freed or the limit raised`,
      );
    case 'READONLY':
      return new StoreUnavailableError(`Redis at ${displayUrl} is a read-only replica: point the URL at the primary`);
    case 'LOADING':
    case 'MASTERDOWN':
    case 'BUSY':
      return new StoreUnavailableError(`Redis at ${displayUrl} cannot serve requests now (${msg})`);
    default:
      return e;
  }
}

/** What was tried (host:port, the URL masked) and how to check it from this host, with the URL's own port. */
function unreachableRedis(displayUrl: string, cause: string): string {
  let host = '127.0.0.1';
  let port = 6379;
  let tls = false;
  try {
    const url = new URL(displayUrl);
    host = url.hostname.replace(/^\[(.*)\]$/, '$1') || host;
    port = url.port ? Number(url.port) : port;
    tls = url.protocol === 'rediss:';
  } catch {
    // a URL the parser took once; keep the defaults
  }
  const where = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
  return (
    `Cannot reach Redis at ${displayUrl} (${cause}), tried ${where}: is the server running${isLocalUrl(displayUrl) ? '' : ', and reachable from this host'}? ` +
    `Check it with: redis-cli -h ${host} -p ${port}${tls ? ' --tls' : ''} ping`
  );
}
