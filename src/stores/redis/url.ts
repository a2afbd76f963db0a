import type { RedisOptions } from 'ioredis';
import { InvalidInputError } from '../../errors.js';
import { maskUrlPassword, URL_ENCODING_HINT } from '../url-in-messages.js';
import { assertKnownParams, POOL_PARAM } from '../url-params.js';

// redis://[user:password@]host[:port][/db][?prefix=myapp:]   (rediss:// for TLS)
// Parsed here rather than by ioredis, which would copy unknown query parameters into its
// options; an unknown parameter is an error, so a mistyped `prefix` cannot silently put two
// applications' jobs under one prefix.

export const DEFAULT_PREFIX = 'jobs:';

export interface RedisUrl {
  options: RedisOptions;
  prefix: string;
  displayUrl: string;
}

export function parseRedisUrl(text: string): RedisUrl {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new InvalidInputError(
      `Invalid Redis URL '${maskUrlPassword(text)}': use redis://127.0.0.1:6379/0, optionally with ?prefix=myapp: (${URL_ENCODING_HINT})`,
    );
  }
  const tls = url.protocol === 'rediss:';
  assertKnownParams(url.searchParams.keys(), {
    store: 'Redis',
    url: text,
    known: [{ name: 'prefix', means: `the key prefix, default ${DEFAULT_PREFIX}` }],
    notes: { [POOL_PARAM]: 'the Redis store pipelines every call over one connection, so there is no pool to size (?pool= is for MySQL)' },
  });
  const prefix = url.searchParams.get('prefix') ?? DEFAULT_PREFIX;
  // Printable ASCII without spaces: the prefix shows up in redis-cli, and in SCAN patterns.
  if (!/^[\x21-\x7e]{1,100}$/.test(prefix)) {
    throw new InvalidInputError(`Invalid key prefix '${prefix}' in the Redis URL: use 1 to 100 printable characters without spaces, e.g. myapp:`);
  }
  const dbText = decodeURIComponent(url.pathname.replace(/^\//, '')) || '0';
  if (!/^\d{1,5}$/.test(dbText)) {
    throw new InvalidInputError(`Invalid database '${dbText}' in the Redis URL '${maskUrlPassword(text)}': use a number, e.g. redis://127.0.0.1:6379/0`);
  }
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1') || '127.0.0.1';
  const options: RedisOptions = {
    host,
    port: url.port ? Number(url.port) : 6379,
    db: Number(dbText),
    ...(url.username ? { username: decodeURIComponent(url.username) } : {}),
    ...(url.password ? { password: decodeURIComponent(url.password) } : {}),
    ...(tls ? { tls: { servername: host } } : {}),
  };
  return { options, prefix, displayUrl: maskUrlPassword(text) };
}
