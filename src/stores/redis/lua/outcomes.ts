import { LUA_PRELUDE } from '../keys.js';

// Outcome events (issue 17) in Redis, written by the record and recovery scripts in the same
// script as the change they tell of (so a crash loses none, a stale result writes none):
//   <p>events          stream  every event; its stream id (Redis clock ms-seq) is the event id,
//                              increasing in script order, which is commit order
//   <p>outcome:<id>    string  the stream id of a job's final event (completed / failed): what
//                              waitFor reads by key (one small write: the event itself is in the stream)
//   <p>outcomes        zset    job ids with an outcome hash, scored by when it was written: pruning
// Empty fields are left out of the stream entry (absent = null).

/** Lua: add_event(kind, id, handler, queue, attempt, duration, err, result, now). Needs LUA_PRELUDE. */
export const OUTCOME_EVENT_LUA = `
local function add_event(kind, id, handler, queue, attempt, duration, err, result, now)
  local fields = { 'kind', kind, 'job', string.format('%d', tonumber(id)), 'handler', handler or '', 'queue', queue, 'attempt', tostring(attempt or 0) }
  if duration and duration ~= '' then fields[#fields + 1] = 'duration'; fields[#fields + 1] = duration end
  if err and err ~= '' then fields[#fields + 1] = 'error'; fields[#fields + 1] = err end
  if result and result ~= '' then fields[#fields + 1] = 'result'; fields[#fields + 1] = result end
  local eid = redis.call('XADD', P .. 'events', '*', unpack(fields))
  if kind ~= 'retrying' then
    redis.call('SET', P .. 'outcome:' .. string.format('%d', tonumber(id)), eid)
    redis.call('ZADD', P .. 'outcomes', now, member(id))
  end
end
`;

/**
 * Deletes outcomes written more than ARGV[2] ms ago: at most ARGV[3] outcome hashes per call,
 * and the stream entries before the cutoff. ARGV: prefix, older_than_ms, batch.
 * Returns { hashes deleted, stream entries trimmed }.
 */
export const PRUNE_OUTCOMES_LUA = `${LUA_PRELUDE}
local cutoff = now_ms() - tonumber(ARGV[2])
local ids = redis.call('ZRANGE', P .. 'outcomes', '-inf', '(' .. ms(cutoff), 'BYSCORE', 'LIMIT', 0, tonumber(ARGV[3]))
for _, m in ipairs(ids) do
  redis.call('DEL', P .. 'outcome:' .. string.format('%d', tonumber(m)))
  redis.call('ZREM', P .. 'outcomes', m)
end
local trimmed = 0
if redis.call('EXISTS', P .. 'events') == 1 then trimmed = redis.call('XTRIM', P .. 'events', 'MINID', ms(cutoff)) end
return { #ids, trimmed }
`;
