import { LUA_PRELUDE } from '../keys.js';
import { FLOW_LUA } from './flow.js';

// Retry and delete of failed jobs, a batch of ids per script. The caller picks candidates from
// the failed:<queue> sets; each script checks every id again (still failed, and matching the
// queue, handler and age filters) and moves or deletes it in one step with its set entries.
// ARGV: prefix, queue ('' any), handler ('' any), older_than_ms ('' any age), ids.
// Returns how many jobs it changed.
const MATCH = `${LUA_PRELUDE}${FLOW_LUA}
local now = now_ms()
local cutoff = nil
if ARGV[4] ~= '' then cutoff = now - tonumber(ARGV[4]) end
local function failed_match(key)
  local f = redis.call('HMGET', key, 'status', 'queue', 'handler', 'failed_at')
  if f[1] ~= 'failed' then return nil end
  if ARGV[2] ~= '' and f[2] ~= ARGV[2] then return nil end
  if ARGV[3] ~= '' and f[3] ~= ARGV[3] then return nil end
  if cutoff and not (tonumber(f[4]) < cutoff) then return nil end
  return f[2]
end
local changed = 0
`;

/** Back to 'new', due now, attempts and interruptions 0; the exception stays until the next run. */
export const RETRY_FAILED_LUA = `${MATCH}
for i = 5, #ARGV do
  local key = job_key(ARGV[i])
  local queue = failed_match(key)
  if queue then
    local m = member(ARGV[i])
    redis.call('HSET', key, 'status', 'new', 'attempts', 0, 'interruptions', 0, 'scheduled_at', ms(now))
    redis.call('HDEL', key, 'failed_at', 'owner', 'claimed_at')
    redis.call('ZREM', P .. 'failed:' .. queue, m)
    put_ready(m, queue, ready_score(redis.call('HGET', key, 'priority'), now))
    changed = changed + 1
  end
end
return changed
`;

export const DELETE_FAILED_LUA = `${MATCH}
for i = 5, #ARGV do
  local key = job_key(ARGV[i])
  local queue = failed_match(key)
  if queue then
    redis.call('DEL', key)
    redis.call('ZREM', P .. 'failed:' .. queue, member(ARGV[i]))
    changed = changed + 1
  end
end
return changed
`;
