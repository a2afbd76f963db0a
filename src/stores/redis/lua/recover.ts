import { LUA_PRELUDE } from '../keys.js';
import { FLOW_LUA } from './flow.js';
import { OUTCOME_EVENT_LUA } from './outcomes.js';
import { DROP_DECLARATIONS_LUA } from './schedules.js';

// Crash recovery in one script: finding the dead, giving back their jobs and removing them from
// the registry happen together, so however many runtimes recover at once, each dead runtime is
// recovered exactly once and none of its jobs is lost or given back twice. Its schedule
// declarations are dropped in the same script.
// Dead: heartbeat older than dead_after_ms (Redis clock), or registered and named in also_dead.
// Their claimed jobs go back to 'new' at their old due time, the attempt not charged; a job
// interrupted more than max_interruptions times is failed instead (it likely kills its runtime).
// Either way the job's concurrency slot is freed (unblocking the next of its key); a job given
// back keeps its unique key, a failed one releases it.
// With keep_outcomes ('1'), each job given back adds a 'retrying' event and each failed one a 'failed' event.
// ARGV: prefix, dead_after_ms, max_interruptions, keep_outcomes, also_dead ids. Returns { released, failed, dead ids… }.
// SWEEP_ORPHANS_LUA (same ARGV, no ids) gives back jobs held by an owner that is not registered
// at all (owners set, see keys.ts) once claimed longer than dead_after_ms ago; one runtime at a
// time runs it, under a lease. Returns { released, failed }.
const GIVE_BACK = `${LUA_PRELUDE}${FLOW_LUA}${DROP_DECLARATIONS_LUA}${OUTCOME_EVENT_LUA}
local now = now_ms()
local outcomes = ARGV[4] == '1'
local cutoff = now - tonumber(ARGV[2])
local max_interruptions = tonumber(ARGV[3])
local released, failed = 0, 0

local function give_back(owner, only_claimed_before)
  local owner_key = P .. 'owner:' .. owner
  for _, m in ipairs(redis.call('SMEMBERS', owner_key)) do
    local key = job_key(m)
    local f = redis.call('HMGET', key, 'owner', 'status', 'queue', 'scheduled_at', 'attempts', 'interruptions', 'claimed_at', 'handler', 'unique_key', 'conc_key', 'priority')
    if f[1] ~= owner or f[2] ~= 'processing' then
      redis.call('SREM', owner_key, m) -- a stale record: the job moved on
    elseif not only_claimed_before or tonumber(f[7]) < only_claimed_before then
      local queue = f[3]
      local interruptions = (tonumber(f[6]) or 0) + 1
      redis.call('SREM', owner_key, m)
      redis.call('ZREM', P .. 'active:' .. queue, m)
      redis.call('HDEL', key, 'owner', 'claimed_at')
      if interruptions > max_interruptions then
        local why = 'Interrupted ' .. interruptions .. ' times: the runtime running it died each time (more than the ' ..
            ms(max_interruptions) .. ' allowed), so it is failed as a likely cause'
        redis.call('HSET', key, 'status', 'failed', 'failed_at', ms(now), 'interruptions', interruptions, 'exception', why)
        if outcomes then add_event('failed', m, f[8], queue, f[5], '', why, '', now) end
        redis.call('ZADD', P .. 'failed:' .. queue, now, m)
        release_unique(m, f[8], f[9])
        failed = failed + 1
      else
        local due = tonumber(f[4])
        redis.call('HSET', key, 'status', 'new', 'attempts', math.max(tonumber(f[5]) - 1, 0), 'interruptions', interruptions)
        if outcomes then
          add_event('retrying', m, f[8], queue, f[5], '', 'Interrupted: the runtime running it (' .. owner .. ') died; it runs again', '', now)
        end
        place_new(m, queue, f[11], due, now)
        released = released + 1
      end
      free_slot(m, f[10], now)
    end
  end
  if redis.call('SCARD', owner_key) == 0 then redis.call('ZREM', P .. 'owners', owner) end
end
`;

export const RECOVER_LUA = `${GIVE_BACK}
local dead, seen = {}, {}
for _, id in ipairs(redis.call('ZRANGE', P .. 'runtimes', '-inf', '(' .. ms(cutoff), 'BYSCORE')) do
  dead[#dead + 1] = id
  seen[id] = true
end
for i = 5, #ARGV do
  local id = ARGV[i]
  if not seen[id] and redis.call('ZSCORE', P .. 'runtimes', id) then
    dead[#dead + 1] = id
    seen[id] = true
  end
end
for _, id in ipairs(dead) do
  give_back(id, nil)
  drop_declarations(id) -- a static schedule only it declared stops
  redis.call('DEL', P .. 'runtime:' .. id)
  redis.call('ZREM', P .. 'runtimes', id)
end
local out = { released, failed }
for _, id in ipairs(dead) do out[#out + 1] = id end
return out
`;

export const SWEEP_ORPHANS_LUA = `${GIVE_BACK}
for _, owner in ipairs(redis.call('ZRANGE', P .. 'owners', 0, -1)) do
  if not redis.call('ZSCORE', P .. 'runtimes', owner) then give_back(owner, cutoff) end
end
return { released, failed }
`;
