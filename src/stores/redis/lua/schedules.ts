import { TICK_KEEP_MS } from '../../schedule-rows.js';
import { LUA_PRELUDE } from '../keys.js';
import { ENQUEUE_FUNCTION_LUA } from './enqueue.js';

// Recurring schedules (keys.ts: schedule:<key>, schedules, schedule-decl:<key>, tick:<key>:<ms>).
// Each operation is one script, so a schedule is never seen half-written and a tick's claim and
// its job's enqueue happen together.

// Writes definitions of one kind. ARGV: prefix, kind ('static' | 'dynamic'), runtime id ('' for
// dynamic), then per schedule: key, cron, tz, misfire, job (JSON). Checked first, written after:
// a key held by the other kind writes nothing and answers { 'conflict', key }. A definition
// equal to the stored one keeps its updated_at. Static: the runtime's declarations become
// exactly these keys. Returns { 'ok' }.
export const SAVE_SCHEDULES_LUA = `${LUA_PRELUDE}
local kind, runtime = ARGV[2], ARGV[3]
for i = 4, #ARGV, 5 do
  local held = redis.call('HGET', P .. 'schedule:' .. ARGV[i], 'kind')
  if held and held ~= kind then return { 'conflict', ARGV[i] } end
end
local now = ms(now_ms())
local declared = {}
for i = 4, #ARGV, 5 do
  local key = P .. 'schedule:' .. ARGV[i]
  local f = redis.call('HMGET', key, 'cron', 'tz', 'misfire', 'job')
  if not (f[1] == ARGV[i + 1] and f[2] == ARGV[i + 2] and f[3] == ARGV[i + 3] and f[4] == ARGV[i + 4]) then
    redis.call('HSET', key, 'kind', kind, 'cron', ARGV[i + 1], 'tz', ARGV[i + 2], 'misfire', ARGV[i + 3], 'job', ARGV[i + 4], 'updated_at', now)
  end
  redis.call('SADD', P .. 'schedules', ARGV[i])
  if runtime ~= '' then
    redis.call('SADD', P .. 'schedule-decl:' .. ARGV[i], runtime)
    declared[ARGV[i]] = true
  end
end
if runtime ~= '' then
  for _, k in ipairs(redis.call('SMEMBERS', P .. 'schedules')) do
    if not declared[k] then redis.call('SREM', P .. 'schedule-decl:' .. k, runtime) end
  end
end
return { 'ok' }
`;

// Drops every schedule declaration of runtime \`rid\` (it deregistered or was recovered dead).
export const DROP_DECLARATIONS_LUA = `
local function drop_declarations(rid)
  for _, k in ipairs(redis.call('SMEMBERS', P .. 'schedules')) do redis.call('SREM', P .. 'schedule-decl:' .. k, rid) end
end
`;

// Removes a dynamic schedule. ARGV: prefix, key. Returns 1, or 0 when there is none (or it is
// static). Its tick records expire on their own.
export const REMOVE_SCHEDULE_LUA = `${LUA_PRELUDE}
local key = P .. 'schedule:' .. ARGV[2]
if redis.call('HGET', key, 'kind') ~= 'dynamic' then return 0 end
redis.call('DEL', key)
redis.call('SREM', P .. 'schedules', ARGV[2])
return 1
`;

// Removes a static schedule no registered runtime declares. ARGV: prefix, key. Returns { 1 }
// when removed, { 0 } when there is no static schedule under key, else { 0, declarer, … }.
// Its tick records expire on their own; one script, so no declaration comes between.
export const REMOVE_UNDECLARED_SCHEDULE_LUA = `${LUA_PRELUDE}
local key = P .. 'schedule:' .. ARGV[2]
if redis.call('HGET', key, 'kind') ~= 'static' then return { 0 } end
local out = { 0 }
for _, rid in ipairs(redis.call('SMEMBERS', P .. 'schedule-decl:' .. ARGV[2])) do
  if redis.call('ZSCORE', P .. 'runtimes', rid) then out[#out + 1] = rid end
end
if #out > 1 then return out end
redis.call('DEL', key, P .. 'schedule-decl:' .. ARGV[2])
redis.call('SREM', P .. 'schedules', ARGV[2])
return { 1 }
`;

// Every schedule with Redis's time, in one consistent read. ARGV: prefix, active ('1': only
// dynamic ones and static ones a registered runtime declares). Returns { now, { key,
// { field, value, … }, { declaring runtime, … } }, … }, declarers registered only.
export const LIST_SCHEDULES_LUA = `${LUA_PRELUDE}
local out = { ms(now_ms()) }
local keys = redis.call('SMEMBERS', P .. 'schedules')
table.sort(keys)
for _, k in ipairs(keys) do
  local row = redis.call('HGETALL', P .. 'schedule:' .. k)
  local by = {}
  for _, rid in ipairs(redis.call('SMEMBERS', P .. 'schedule-decl:' .. k)) do
    if redis.call('ZSCORE', P .. 'runtimes', rid) then by[#by + 1] = rid end
  end
  local kind = redis.call('HGET', P .. 'schedule:' .. k, 'kind')
  if #row > 0 and (ARGV[2] ~= '1' or kind == 'dynamic' or #by > 0) then out[#out + 1] = { k, row, by } end
end
return out
`;

// Claims a tick and enqueues its job, through the enqueue script's own code (flow fields
// honoured). ARGV: prefix, wake, key, tick (ms), then the job's ENQUEUE_FIELDS (producer.ts).
// The claim is <p>tick:<key>:<tick>, SET NX with a 7-day expiry, holding the job's id.
// Returns {} when the schedule is gone, else { id, enqueued (1 | 0) }: 0 when the tick was
// claimed before (its job's id) or the job was a unique-key duplicate (the standing job's id).
export const ENQUEUE_TICK_LUA = `${LUA_PRELUDE}${ENQUEUE_FUNCTION_LUA}
local skey = P .. 'schedule:' .. ARGV[3]
if redis.call('EXISTS', skey) == 0 then return {} end
local tick = tonumber(ARGV[4])
local claim = P .. 'tick:' .. ARGV[3] .. ':' .. ms(tick)
local claimed = redis.call('GET', claim)
if claimed then return { tonumber(claimed), 0 } end
local A = { P, ARGV[2], ARGV[14] ~= '' and '1' or '0' }
for i = 5, #ARGV do A[#A + 1] = ARGV[i] end
local r = enqueue_chunk(A, tick)
local id = type(r) == 'table' and r[1] or r
local enqueued = id > 0 and 1 or 0
if id < 0 then id = -id end
redis.call('SET', claim, string.format('%d', id), 'NX', 'PX', ${TICK_KEEP_MS})
local last = tonumber(redis.call('HGET', skey, 'last_tick_at') or '-1')
if tick > last then redis.call('HSET', skey, 'last_tick_at', ms(tick), 'last_job_id', string.format('%d', id)) end
return { id, enqueued }
`;
