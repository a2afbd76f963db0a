import { LUA_PRELUDE } from '../keys.js';
import { DROP_DECLARATIONS_LUA } from './schedules.js';

// The runtime registry: one hash per runtime plus a sorted set of runtimes scored by their last
// heartbeat, both stamped with Redis's clock so hosts whose clocks differ agree on who is silent.

// Registers or refreshes a runtime; a heartbeat from a runtime a peer removed registers it again.
// started_at is kept from the first registration.
// ARGV: prefix, id, host, pid, queues ('' = all), threads, cpu_percent, rss_bytes, jobs_done,
// jobs_failed, busy_threads, slots.
export const UPSERT_RUNTIME_LUA = `${LUA_PRELUDE}
local id = ARGV[2]
local key = P .. 'runtime:' .. id
local now = ms(now_ms())
local created = redis.call('HSETNX', key, 'started_at', now)
redis.call('HSET', key, 'host', ARGV[3], 'pid', ARGV[4], 'queues', ARGV[5], 'threads', ARGV[6], 'heartbeat_at', now,
  'cpu_percent', ARGV[7], 'rss_bytes', ARGV[8], 'jobs_done', ARGV[9], 'jobs_failed', ARGV[10], 'busy_threads', ARGV[11],
  'slots', ARGV[12])
redis.call('ZADD', P .. 'runtimes', now, id)
return created
`;

// Every registered runtime with Redis's time, in one consistent read.
// ARGV: prefix. Returns { now, { id, field, value, … }, … }.
export const LIST_RUNTIMES_LUA = `${LUA_PRELUDE}
local out = { ms(now_ms()) }
for _, id in ipairs(redis.call('ZRANGE', P .. 'runtimes', 0, -1)) do
  local row = redis.call('HGETALL', P .. 'runtime:' .. id)
  table.insert(row, 1, id)
  out[#out + 1] = row
end
return out
`;

// Removes a runtime that exits cleanly, and its schedule declarations. ARGV: prefix, id.
export const DEREGISTER_RUNTIME_LUA = `${LUA_PRELUDE}${DROP_DECLARATIONS_LUA}
drop_declarations(ARGV[2])
redis.call('DEL', P .. 'runtime:' .. ARGV[2])
redis.call('ZREM', P .. 'runtimes', ARGV[2])
return 0
`;
