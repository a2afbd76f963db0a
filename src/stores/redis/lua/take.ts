// The claim of one ready job, limits first (issue 15), shared by the claim scripts (claim.ts).
// Needs owner, token, now, seed and out in scope. take(m, queue) returns true when the job was
// taken (or was a dangling entry, dropped), false when a limit held it back:
// - its concurrency key already has conc_limit jobs processing (<p>conc:<key>, this claim's
//   included): 'blocked', into <p>cblocked:<key> at its ready score, so it leaves in claim order;
// - its rate key had rate_limit starts in this fixed window (<p>rate:<per_ms>:<window>:<key>):
//   due at the next window plus jitter (uniform in [0, min(per/10, 1000)] ms), marked rate_deferred.
// Neither charges an attempt. A job taken counts in its rate window, holds a slot of its
// concurrency key, and releases a unique key held until 'started'.
export const TAKE_LUA = `
local deferrals = 0
local function defer(m, key, queue, per, window)
  -- Consecutive deferrals of one claim step through [0, 1) by the golden ratio: spread, not clumped.
  local u = (seed + deferrals * 0.6180339887498949) % 1
  deferrals = deferrals + 1
  local due = (window + 1) * per + math.floor(u * math.min(per / 10, 1000))
  unplace_ready(m, queue)
  redis.call('HSET', key, 'scheduled_at', ms(due), 'rate_deferred', '1')
  redis.call('ZADD', P .. 'due:' .. queue, ms(due), m)
  redis.call('ZADD', P .. 'due', ms(due), m)
  redis.call('ZADD', P .. 'qrated:' .. queue, ms(due), m)
end

local function take(m, queue)
  local key = job_key(m)
  local f = redis.call('HMGET', key, 'handler', 'queue', 'payload', 'max_attempts', 'retry_after_ms', 'timeout_ms',
    'scheduled_at', 'priority', 'retry_policy', 'conc_key', 'conc_limit', 'rate_key', 'rate_limit', 'rate_per_ms',
    'unique_key', 'unique_until', 'rate_deferred')
  if not f[2] then
    -- The hash is gone (deleted by hand, or evicted): drop the dangling entry, claim nothing.
    redis.call('ZREM', P .. 'ready', m)
    if queue then redis.call('ZREM', P .. 'ready:' .. queue, m) end
    return true
  end
  queue = f[2]
  local ckey, rkey = f[10], f[12]
  local conc = nil
  if ckey then
    conc = P .. 'conc:' .. ckey
    if redis.call('SCARD', conc) >= tonumber(f[11]) then
      unplace_ready(m, queue)
      redis.call('HSET', key, 'status', 'blocked')
      redis.call('ZADD', P .. 'cblocked:' .. ckey, ms(ready_score(f[8], f[7])), m)
      redis.call('SADD', P .. 'qblocked:' .. queue, m)
      return false
    end
  end
  if rkey then
    local per = tonumber(f[14])
    local window = math.floor(now / per)
    local counter = P .. 'rate:' .. ms(per) .. ':' .. ms(window) .. ':' .. rkey
    if (tonumber(redis.call('GET', counter)) or 0) >= tonumber(f[13]) then
      defer(m, key, queue, per, window)
      return false
    end
    -- Kept a second past its window, then gone by itself.
    if redis.call('INCR', counter) == 1 then redis.call('PEXPIRE', counter, ms((window + 1) * per - now + 1000)) end
  end
  if conc then redis.call('SADD', conc, m) end
  local attempts = redis.call('HINCRBY', key, 'attempts', 1)
  redis.call('HSET', key, 'status', 'processing', 'owner', owner, 'claimed_at', ms(now), 'token', token)
  unplace_ready(m, queue)
  redis.call('ZADD', P .. 'active:' .. queue, now, m)
  redis.call('SADD', P .. 'owner:' .. owner, m)
  if f[17] then
    redis.call('HDEL', key, 'rate_deferred')
    redis.call('ZREM', P .. 'qrated:' .. queue, m)
  end
  if f[16] == 'started' then release_unique(m, f[1], f[15]) end
  out[#out + 1] = { tonumber(m), f[1], queue, f[3], attempts, f[4], f[5], f[6], f[7], tonumber(f[8]) or 0, f[9] }
  return true
end
`;
