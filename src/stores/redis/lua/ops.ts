import { LUA_PRELUDE } from '../keys.js';
import { FLOW_LUA } from './flow.js';

// Small operator scripts: pausing, throughput, pruning, leases. Each is one atomic step.

// Pauses or resumes a queue. ARGV: prefix, queue, '1' pause / '0' resume. Returns 1 if it changed.
export const SET_PAUSED_LUA = `${LUA_PRELUDE}
if ARGV[3] == '1' then return redis.call('HSETNX', P .. 'paused', ARGV[2], ms(now_ms())) end
return redis.call('HDEL', P .. 'paused', ARGV[2])
`;

// Sums the per-minute counters from the minute holding now − since_ms to the current one.
// ARGV: prefix, since_ms. Returns { queue, completed, failed } per queue.
export const THROUGHPUT_LUA = `${LUA_PRELUDE}
local now = now_ms()
local sums, names = {}, {}
for minute = math.floor((now - tonumber(ARGV[2])) / 60000), math.floor(now / 60000) do
  local h = redis.call('HGETALL', P .. 'stats:' .. ms(minute))
  for i = 1, #h, 2 do
    local q = string.sub(h[i], 3)
    local s = sums[q]
    if not s then
      s = { 0, 0 }
      sums[q] = s
      names[#names + 1] = q
    end
    if string.sub(h[i], 1, 1) == 'c' then s[1] = s[1] + tonumber(h[i + 1]) else s[2] = s[2] + tonumber(h[i + 1]) end
  end
end
local out = {}
for _, q in ipairs(names) do out[#out + 1] = { q, sums[q][1], sums[q][2] } end
return out
`;

// Deletes up to batch jobs of one kind ('completed' or 'failed') older than older_than_ms, over
// every queue, with their set entries. Entries whose job moved on are dropped from the set.
// ARGV: prefix, kind, older_than_ms, batch. Returns how many jobs it deleted.
export const PRUNE_LUA = `${LUA_PRELUDE}
local kind, batch = ARGV[2], tonumber(ARGV[4])
local cutoff = now_ms() - tonumber(ARGV[3])
local deleted, looked = 0, 0
for _, q in ipairs(redis.call('SMEMBERS', P .. 'queues')) do
  if looked >= batch then break end
  local set = P .. kind .. ':' .. q
  for _, m in ipairs(redis.call('ZRANGE', set, '-inf', '(' .. ms(cutoff), 'BYSCORE', 'LIMIT', 0, batch - looked)) do
    looked = looked + 1
    local key = job_key(m)
    if redis.call('HGET', key, 'status') == kind then
      redis.call('DEL', key)
      deleted = deleted + 1
    end
    redis.call('ZREM', set, m)
  end
end
return { deleted, looked }
`;

// Forgets queue names that no job refers to any more (no waiting, delayed, claimed, failed or
// kept completed job), so the set of queues does not grow with every name ever used: counts,
// pruning and claims past a paused queue walk it. One SSCAN page per call; an enqueue adds the
// name back in the same script that stores the job. ARGV: prefix, cursor, count.
// Returns { next cursor, names removed }.
export const FORGET_EMPTY_QUEUES_LUA = `${LUA_PRELUDE}
local page = redis.call('SSCAN', P .. 'queues', ARGV[2], 'COUNT', ARGV[3])
local removed = 0
for _, q in ipairs(page[2]) do
  if redis.call('EXISTS', P .. 'due:' .. q, P .. 'ready:' .. q, P .. 'qblocked:' .. q, P .. 'active:' .. q, P .. 'failed:' .. q,
    P .. 'completed:' .. q) == 0 then
    redis.call('DEL', P .. 'qrated:' .. q) -- marks of jobs deleted by hand
    redis.call('SREM', P .. 'queues', q)
    removed = removed + 1
  end
end
return { page[1], removed }
`;

// Takes or renews a lease. ARGV: prefix, name, owner, ttl_ms. Returns 1 when owner holds it.
export const LEASE_LUA = `${LUA_PRELUDE}
local key = P .. 'lease:' .. ARGV[2]
if redis.call('SET', key, ARGV[3], 'NX', 'PX', ARGV[4]) then return 1 end
if redis.call('GET', key) == ARGV[3] then
  redis.call('PEXPIRE', key, ARGV[4])
  return 1
end
return 0
`;

// Gives up a lease if owner holds it. ARGV: prefix, name, owner.
export const RELEASE_LEASE_LUA = `${LUA_PRELUDE}
local key = P .. 'lease:' .. ARGV[2]
if redis.call('GET', key) == ARGV[3] then redis.call('DEL', key) end
return 0
`;

// One job for an operator, with whether it still holds its unique key (a 'for' window may have
// expired the lock, or a newer job taken it). ARGV: prefix, id. Returns { held (0/1), field, value, … }.
export const GET_JOB_LUA = `${LUA_PRELUDE}${FLOW_LUA}
local key = job_key(ARGV[2])
local h = redis.call('HGETALL', key)
local held = 0
local f = redis.call('HMGET', key, 'handler', 'unique_key')
if f[2] and redis.call('GET', unique_lock(f[1], f[2])) == string.format('%d', tonumber(ARGV[2])) then held = 1 end
table.insert(h, 1, held)
return h
`;
