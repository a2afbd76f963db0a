import { LUA_PRELUDE } from '../keys.js';
import { FLOW_LUA } from './flow.js';

// Gives back jobs an owner claimed but did not start: 'new' again at their old due time, the
// claim's attempt taken back, its
// concurrency slot freed (unblocking the next blocked job of its key), its unique key kept. One script, for the same reason as a claim. Jobs the owner no
// longer holds (or holds under another claim: the fencing token differs) are skipped.
// ARGV: prefix, owner, then per job: id, token. Returns how many were given back.
export const RELEASE_LUA = `${LUA_PRELUDE}${FLOW_LUA}
local now = now_ms()
local owner = ARGV[2]
local owner_key = P .. 'owner:' .. owner
local released = 0
for i = 3, #ARGV, 2 do
  local key = job_key(ARGV[i])
  local f = redis.call('HMGET', key, 'owner', 'status', 'queue', 'scheduled_at', 'attempts', 'token', 'priority', 'conc_key')
  if f[1] == owner and f[2] == 'processing' and f[6] == ARGV[i + 1] then
    local queue, m, due = f[3], member(ARGV[i]), tonumber(f[4])
    redis.call('HSET', key, 'status', 'new', 'attempts', math.max(tonumber(f[5]) - 1, 0))
    redis.call('HDEL', key, 'owner', 'claimed_at')
    redis.call('ZREM', P .. 'active:' .. queue, m)
    redis.call('SREM', owner_key, m)
    place_new(m, queue, f[7], due, now)
    free_slot(m, f[8], now)
    released = released + 1
  end
end
if redis.call('SCARD', owner_key) == 0 then redis.call('ZREM', P .. 'owners', owner) end
return released
`;
