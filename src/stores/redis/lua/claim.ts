import { LUA_PRELUDE } from '../keys.js';

// Claims due jobs for one owner. One script: taking a job out of the due sets, marking it
// processing and recording it under its owner happen together, so a runtime that dies at any
// point either never had the job or holds it on record for recovery, and two claimers never get
// the same job. Order as on MySQL: queues in the given order; within a queue, and across all
// queues when none is given, by due time then id.
// ARGV: prefix, owner, limit, queue names (none = every queue).
// Returns per job: id, handler, queue, payload, attempts (this run included), max_attempts,
// retry_after_ms, timeout_ms (nil for none).
export const CLAIM_LUA = `${LUA_PRELUDE}
local owner = ARGV[2]
local limit = tonumber(ARGV[3])
local now = now_ms()
local out = {}

local function take(due_key, want)
  local members = redis.call('ZRANGE', due_key, '-inf', now, 'BYSCORE', 'LIMIT', 0, want)
  for _, m in ipairs(members) do
    local key = job_key(m)
    local f = redis.call('HMGET', key, 'handler', 'queue', 'payload', 'max_attempts', 'retry_after_ms', 'timeout_ms')
    local queue = f[2]
    if not queue then
      -- The hash is gone (deleted by hand, or evicted): drop the dangling entry, claim nothing.
      redis.call('ZREM', P .. 'due', m)
      redis.call('ZREM', due_key, m)
    else
      local attempts = redis.call('HINCRBY', key, 'attempts', 1)
      redis.call('HSET', key, 'status', 'processing', 'owner', owner, 'claimed_at', ms(now))
      redis.call('ZREM', P .. 'due:' .. queue, m)
      redis.call('ZREM', P .. 'due', m)
      redis.call('ZADD', P .. 'active:' .. queue, now, m)
      redis.call('SADD', P .. 'owner:' .. owner, m)
      out[#out + 1] = { tonumber(m), f[1], queue, f[3], attempts, f[4], f[5], f[6] }
    end
  end
end

if #ARGV == 3 then
  take(P .. 'due', limit)
else
  for i = 4, #ARGV do
    local want = limit - #out
    if want <= 0 then break end
    take(P .. 'due:' .. ARGV[i], want)
  end
end
if #out > 0 then redis.call('ZADD', P .. 'owners', now, owner) end
return out
`;
