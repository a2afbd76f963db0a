import { LUA_PRELUDE } from '../keys.js';
import { FLOW_LUA } from './flow.js';

// Inserts a chunk of jobs. One script, so a job is never visible half-written: the hash and its
// sets appear together, and a unique key is taken in the same step (never check-then-insert:
// Redis runs one script at a time, so two dispatchers of one key cannot both insert).
// ARGV: prefix, wake ('1': publish, '0': JOBS_WAKE=0 in the dispatching process), unique ('1'
// when a job of the chunk has a unique key), then per job the ENQUEUE_FIELDS of producer.ts:
// handler, queue, payload, delay_ms, max_attempts, retry_after_ms, timeout_ms ('' none),
// priority, retry_policy ('' none), unique key ('' none), unique until, unique for_ms ('' none),
// on_conflict, concurrency key ('' none), concurrency limit, rate key ('' none), rate limit, rate per_ms.
// Without unique keys ids come from one INCRBY (a chunk's ids are consecutive) and it returns the
// first id; with them, an INCR per job stored, and it returns each job's id, negated for a
// duplicate (the standing job's id: nothing stored; with 'replace' the standing job updated if it waits).
// A job with a unique key is a duplicate while the lock <p>unique:… names a job that still holds
// it: the lock is deleted when its job ends, and expires with the 'for' window (PEXPIRE).
// With wake '1', a chunk with a job due now PUBLISHes on <prefix>wake: runtimes on any host
// claim at once (wake-channel.ts). Subscribers run their claim after this script, so they see the jobs.
// The message is the chunk's first id: the key the dispatcher's same-host datagram carries too
// (wake/wake-message.ts), so a runtime that gets both claims once.
export const ENQUEUE_FIELDS = 18;

export const ENQUEUE_FUNCTION_LUA = `${FLOW_LUA}

-- A duplicate of a waiting job with onConflict 'replace': its payload and due time become the new job's.
local function replace(id, payload, due, now)
  local key = job_key(id)
  local m = member(id)
  local f = redis.call('HMGET', key, 'status', 'queue', 'priority', 'conc_key')
  if f[1] == 'new' then
    unplace_new(m, f[2])
    redis.call('HSET', key, 'payload', payload, 'scheduled_at', ms(due))
    redis.call('HDEL', key, 'rate_deferred')
    redis.call('ZREM', P .. 'qrated:' .. f[2], m)
    place_new(m, f[2], f[3], due, now)
  elseif f[1] == 'blocked' then
    redis.call('HSET', key, 'payload', payload, 'scheduled_at', ms(due))
    redis.call('ZADD', P .. 'cblocked:' .. f[4], ms(ready_score(f[3], due)), m)
  else
    return false
  end
  return true
end

-- The id of the job holding lock, or nil when none does.
local function holder_of(lock)
  local id = redis.call('GET', lock)
  if not id then return nil end
  local status = redis.call('HGET', job_key(id), 'status')
  if status == 'new' or status == 'blocked' or status == 'processing' then return id end
  return nil -- a lock left by a job that is gone or ended: take it over
end

-- The enqueue itself, on an argument list laid out as this script's ARGV (A), so the tick script
-- (lua/schedules.ts) enqueues its job through the same code. due_at (ms, optional): every job
-- of the chunk is due then, whatever its delay (a schedule's tick).
local function enqueue_chunk(A, due_at)
  local F = ${ENQUEUE_FIELDS}
  local n = (#A - 3) / F
  local with_unique = A[3] == '1'
  local first = nil
  if not with_unique then first = redis.call('INCRBY', P .. 'id', n) - n + 1 end
  local now = now_ms()
  local known = {}
  local wake_id = nil
  local out = {}
  for i = 0, n - 1 do
    local a = 4 + i * F
    local handler, queue, payload = A[a], A[a + 1], A[a + 2]
    local delay = tonumber(A[a + 3])
    if due_at then delay = due_at - now end
    local due = now + delay
    local ukey = A[a + 9]
    local lock, standing = nil, nil
    if ukey ~= '' then
      lock = unique_lock(handler, ukey)
      standing = holder_of(lock)
    end
    if standing then
      if A[a + 12] == 'replace' and replace(standing, payload, due, now) and delay <= 0 then wake_id = wake_id or standing end
      out[#out + 1] = -tonumber(standing)
    else
      local id = first and first + i or redis.call('INCR', P .. 'id')
      local key = job_key(id)
      redis.call('HSET', key, 'handler', handler, 'queue', queue, 'payload', payload, 'status', 'new',
        'attempts', 0, 'max_attempts', A[a + 4], 'retry_after_ms', A[a + 5],
        'created_at', ms(now), 'scheduled_at', ms(due))
      if A[a + 6] ~= '' then redis.call('HSET', key, 'timeout_ms', A[a + 6]) end
      if A[a + 7] ~= '0' then redis.call('HSET', key, 'priority', A[a + 7]) end
      if A[a + 8] ~= '' then redis.call('HSET', key, 'retry_policy', A[a + 8]) end
      if lock then
        local sid = string.format('%d', id)
        if A[a + 11] ~= '' then redis.call('SET', lock, sid, 'PX', ms(math.max(1, tonumber(A[a + 11])))) else redis.call('SET', lock, sid) end
        redis.call('HSET', key, 'unique_key', ukey, 'unique_until', A[a + 10])
      end
      if A[a + 13] ~= '' then redis.call('HSET', key, 'conc_key', A[a + 13], 'conc_limit', A[a + 14]) end
      if A[a + 15] ~= '' then redis.call('HSET', key, 'rate_key', A[a + 15], 'rate_limit', A[a + 16], 'rate_per_ms', A[a + 17]) end
      place_new(member(id), queue, A[a + 7], due, now)
      if delay <= 0 then wake_id = wake_id or id end
      if not known[queue] then
        redis.call('SADD', P .. 'queues', queue)
        known[queue] = true
      end
      out[#out + 1] = id
    end
  end
  if wake_id and A[2] == '1' then redis.call('PUBLISH', P .. 'wake', string.format('%d', out[1] < 0 and -out[1] or out[1])) end
  if first then return first end
  return out
end
`;

export const ENQUEUE_LUA = `${LUA_PRELUDE}${ENQUEUE_FUNCTION_LUA}
return enqueue_chunk(ARGV, nil)
`;
