import { LUA_PRELUDE } from '../keys.js';

// Writes a batch of results. One script: each job leaves its owner's record and its active set
// in the same step that gives it its new state, so no job is ever in two states or in none.
// A result is applied only while `owner` still holds the job as processing: a job given back
// meanwhile (release, recovery) is left alone.
// ARGV: prefix, owner, keep_completed ('1'/'0'), then per result: id, outcome, error, delay_ms.
export const RECORD_FIELDS = 4;

export const RECORD_LUA = `${LUA_PRELUDE}
local owner = ARGV[2]
local keep = ARGV[3] == '1'
local owner_key = P .. 'owner:' .. owner
local now = now_ms()
for i = 4, #ARGV, ${RECORD_FIELDS} do
  local id, outcome, err = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  local key = job_key(id)
  local f = redis.call('HMGET', key, 'owner', 'status', 'queue')
  if f[1] == owner and f[2] == 'processing' then
    local queue, m = f[3], member(id)
    redis.call('ZREM', P .. 'active:' .. queue, m)
    redis.call('SREM', owner_key, m)
    if outcome == 'completed' then
      if keep then
        redis.call('HSET', key, 'status', 'completed')
        redis.call('HDEL', key, 'owner')
        redis.call('ZADD', P .. 'completed:' .. queue, now, m)
      else
        redis.call('DEL', key)
      end
    elseif outcome == 'retry' then
      local due = now + tonumber(ARGV[i + 3])
      redis.call('HSET', key, 'status', 'new', 'exception', err, 'scheduled_at', ms(due))
      redis.call('HDEL', key, 'owner', 'claimed_at')
      redis.call('ZADD', P .. 'due:' .. queue, due, m)
      redis.call('ZADD', P .. 'due', due, m)
    else
      redis.call('HSET', key, 'status', 'failed', 'exception', err, 'failed_at', ms(now))
      redis.call('HDEL', key, 'owner', 'claimed_at')
      redis.call('ZADD', P .. 'failed:' .. queue, now, m)
    end
  end
end
if redis.call('SCARD', owner_key) == 0 then redis.call('ZREM', P .. 'owners', owner) end
return 0
`;
