import { THROUGHPUT_KEEP_MS } from '../../store.js';
import { LUA_PRELUDE } from '../keys.js';
import { FLOW_LUA } from './flow.js';
import { OUTCOME_EVENT_LUA } from './outcomes.js';

// Writes a batch of results. One script: each job leaves its owner's record and its active set
// in the same step that gives it its new state, so no job is ever in two states or in none.
// A result is applied only while `owner` still holds that claim (status processing, same fencing
// token): a job given back meanwhile (release, recovery) or claimed again is left alone.
// Every outcome frees the job's concurrency slot (unblocking the next blocked job of its key); a
// completed or failed job releases its unique key, a retry keeps it.
// Completed and failed jobs are counted per queue into this minute's throughput hash (keys.ts).
// With keep_outcomes, each result applied adds its event (lua/outcomes.ts) in this script.
// ARGV: prefix, owner, keep_completed ('1'/'0'), keep_outcomes ('1'/'0'), then per result: id,
// token, outcome, error, delay_ms, attempt, duration_ms, result JSON ('' when none).
// Returns the positions (1-based) of the results that were not applied.
export const RECORD_FIELDS = 8;
const FIRST = 5;

export const RECORD_LUA = `${LUA_PRELUDE}${FLOW_LUA}${OUTCOME_EVENT_LUA}
local owner = ARGV[2]
local keep = ARGV[3] == '1'
local outcomes = ARGV[4] == '1'
local owner_key = P .. 'owner:' .. owner
local now = now_ms()
local done, failed, stale = {}, {}, {}
local counted = false
for i = ${FIRST}, #ARGV, ${RECORD_FIELDS} do
  local id, token, outcome, err = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]
  local key = job_key(id)
  local f = redis.call('HMGET', key, 'owner', 'status', 'queue', 'token', 'handler', 'unique_key', 'conc_key', 'priority')
  if f[1] ~= owner or f[2] ~= 'processing' or f[4] ~= token then
    stale[#stale + 1] = math.floor((i - ${FIRST}) / ${RECORD_FIELDS}) + 1
  else
    local queue, m = f[3], member(id)
    redis.call('ZREM', P .. 'active:' .. queue, m)
    redis.call('SREM', owner_key, m)
    if outcome ~= 'retry' then release_unique(id, f[5], f[6]) end
    if outcome == 'completed' then
      done[queue] = (done[queue] or 0) + 1
      counted = true
      if keep then
        redis.call('HSET', key, 'status', 'completed')
        redis.call('HDEL', key, 'owner')
        redis.call('ZADD', P .. 'completed:' .. queue, now, m)
      else
        redis.call('DEL', key)
      end
    elseif outcome == 'retry' then
      local due = now + tonumber(ARGV[i + 4])
      redis.call('HSET', key, 'status', 'new', 'exception', err, 'scheduled_at', ms(due))
      redis.call('HDEL', key, 'owner', 'claimed_at')
      place_new(m, queue, f[8], due, now)
    else
      failed[queue] = (failed[queue] or 0) + 1
      counted = true
      redis.call('HSET', key, 'status', 'failed', 'exception', err, 'failed_at', ms(now))
      redis.call('HDEL', key, 'owner', 'claimed_at')
      redis.call('ZADD', P .. 'failed:' .. queue, now, m)
    end
    free_slot(m, f[7], now)
    if outcomes then
      local kind = outcome
      if outcome == 'retry' then kind = 'retrying' end
      local result = ''
      if outcome == 'completed' then err = ''; result = ARGV[i + 7] end
      add_event(kind, id, f[5], queue, ARGV[i + 5], ARGV[i + 6], err, result, now)
    end
  end
end
if counted then
  local stats = P .. 'stats:' .. ms(math.floor(now / 60000))
  for q, n in pairs(done) do redis.call('HINCRBY', stats, 'c:' .. q, n) end
  for q, n in pairs(failed) do redis.call('HINCRBY', stats, 'f:' .. q, n) end
  redis.call('PEXPIRE', stats, ${THROUGHPUT_KEEP_MS + 120_000})
end
if redis.call('SCARD', owner_key) == 0 then redis.call('ZREM', P .. 'owners', owner) end
return stale
`;
