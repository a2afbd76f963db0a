// Lua helpers shared by every script that moves a job between states (issue 15's flow
// control): where a waiting job is kept (ready or scheduled), unique locks, concurrency slots
// and their blocked jobs. Scripts include it after LUA_PRELUDE. Keys of flow control (unique,
// concurrency, rate) are opaque strings: only ever concatenated into key names, never into script text.

/** 2^42 ms is past the year 2109: (priority + 1000) * 2^42 + due stays below 2^53 (exact in a double). */
export const PRIORITY_SHIFT = 4398046511104;
/** Priorities are −1000…1000; the offset makes every score non-negative. */
export const PRIORITY_OFFSET = 1000;
/** Due jobs moved from the scheduled sets into the ready sets per claim, at most (BullMQ moves 1000 too). */
export const PROMOTE_BATCH = 1000;

/** The ready sets' score of a job: claim order is priority, then due time, then id (the member). */
export function readyScore(priority: number, dueMs: number): number {
  return (priority + PRIORITY_OFFSET) * PRIORITY_SHIFT + Math.max(0, dueMs);
}

export const FLOW_LUA = `
local function ready_score(prio, due)
  return ((tonumber(prio) or 0) + ${PRIORITY_OFFSET}) * ${PRIORITY_SHIFT} + math.max(0, tonumber(due))
end
-- Scores are passed as ms() text: Lua would print a plain number with 14 digits only, and these have 16.
local function put_ready(m, queue, score)
  local s = ms(score)
  redis.call('ZADD', P .. 'ready:' .. queue, s, m)
  redis.call('ZADD', P .. 'ready', s, m)
end
-- A 'new' job goes where claims find it: the ready sets once due, the scheduled (due) sets before.
local function place_new(m, queue, prio, due, now)
  if due <= now then
    put_ready(m, queue, ready_score(prio, due))
  else
    redis.call('ZADD', P .. 'due:' .. queue, ms(due), m)
    redis.call('ZADD', P .. 'due', ms(due), m)
  end
end
local function unplace_ready(m, queue)
  redis.call('ZREM', P .. 'ready:' .. queue, m)
  redis.call('ZREM', P .. 'ready', m)
end
local function unplace_new(m, queue)
  unplace_ready(m, queue)
  redis.call('ZREM', P .. 'due:' .. queue, m)
  redis.call('ZREM', P .. 'due', m)
end
-- Moves up to n jobs of the scheduled set from_key that are due now into the ready sets.
local function promote(from_key, n, now)
  local r = redis.call('ZRANGE', from_key, '-inf', ms(now), 'BYSCORE', 'LIMIT', 0, n, 'WITHSCORES')
  for i = 1, #r, 2 do
    local m = r[i]
    local f = redis.call('HMGET', job_key(m), 'queue', 'priority')
    redis.call('ZREM', P .. 'due', m)
    redis.call('ZREM', from_key, m)
    if f[1] then
      redis.call('ZREM', P .. 'due:' .. f[1], m)
      put_ready(m, f[1], ready_score(f[2], r[i + 1]))
    end
  end
end
-- The unique lock of (handler, key): the handler's length first, so no two pairs share a name.
local function unique_lock(handler, key)
  return P .. 'unique:' .. string.len(handler) .. ':' .. handler .. ':' .. key
end
-- Releases the job's unique key if its lock still names it (a 'for' window may have let a newer job take it).
local function release_unique(id, handler, key)
  if not key then return end
  local lock = unique_lock(handler, key)
  if redis.call('GET', lock) == string.format('%d', tonumber(id)) then redis.call('DEL', lock) end
  redis.call('HDEL', job_key(id), 'unique_key')
end
-- Puts blocked jobs of concurrency key ckey back to 'new', in claim order, while slots are free.
local function unblock(ckey, now)
  local blocked = P .. 'cblocked:' .. ckey
  local running = redis.call('SCARD', P .. 'conc:' .. ckey)
  while true do
    local head = redis.call('ZRANGE', blocked, 0, 0)
    local m = head[1]
    if not m then break end
    local key = job_key(m)
    local f = redis.call('HMGET', key, 'queue', 'conc_limit', 'status', 'priority', 'scheduled_at')
    if f[3] ~= 'blocked' then
      redis.call('ZREM', blocked, m) -- the job moved on (deleted by hand): drop the entry
    else
      if running >= tonumber(f[2]) then break end
      redis.call('ZREM', blocked, m)
      redis.call('SREM', P .. 'qblocked:' .. f[1], m)
      redis.call('HSET', key, 'status', 'new')
      place_new(m, f[1], f[4], tonumber(f[5]), now)
      running = running + 1
    end
  end
end
-- The job stopped processing: frees its slot (SREM answers 1 once only) and unblocks the next.
local function free_slot(m, ckey, now)
  if ckey and redis.call('SREM', P .. 'conc:' .. ckey, m) == 1 and redis.call('EXISTS', P .. 'cblocked:' .. ckey) == 1 then
    unblock(ckey, now)
  end
end
`;
