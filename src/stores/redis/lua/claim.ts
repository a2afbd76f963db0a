import { LUA_PRELUDE } from '../keys.js';

// Claims due jobs for one owner. One script: taking a job out of the due sets, marking it
// processing and recording it under its owner happen together, so a runtime that dies at any
// point either never had the job or holds it on record for recovery, and two claimers never get
// the same job. Order as on MySQL: queues in the given order; within a queue, and across all
// queues when none is given, by due time then id. Paused queues (<p>paused) are skipped: with
// none paused, all queues read the shared due set; with some paused, the heads of the other
// queues' due sets are merged by (due time, id), so a paused backlog is never read past.
// ARGV: prefix, owner, limit, token (the claim's fencing token, kept in the hash), queue names
// (none = every queue).
// Returns per job: id, handler, queue, payload, attempts (this run included), max_attempts,
// retry_after_ms, timeout_ms (nil for none), scheduled_at (ms).
// Takes one job (member m of due set due_key) for the claim; needs owner, token, now, out in scope.
const CLAIM_ONE_LUA = `local function claim_one(m, due_key)
  local key = job_key(m)
  local f = redis.call('HMGET', key, 'handler', 'queue', 'payload', 'max_attempts', 'retry_after_ms', 'timeout_ms', 'scheduled_at')
  local queue = f[2]
  if not queue then
    -- The hash is gone (deleted by hand, or evicted): drop the dangling entry, claim nothing.
    redis.call('ZREM', P .. 'due', m)
    redis.call('ZREM', due_key, m)
  else
    local attempts = redis.call('HINCRBY', key, 'attempts', 1)
    redis.call('HSET', key, 'status', 'processing', 'owner', owner, 'claimed_at', ms(now), 'token', token)
    redis.call('ZREM', P .. 'due:' .. queue, m)
    redis.call('ZREM', P .. 'due', m)
    redis.call('ZADD', P .. 'active:' .. queue, now, m)
    redis.call('SADD', P .. 'owner:' .. owner, m)
    out[#out + 1] = { tonumber(m), f[1], queue, f[3], attempts, f[4], f[5], f[6], f[7] }
  end
end`;

export const CLAIM_LUA = `${LUA_PRELUDE}
local owner = ARGV[2]
local limit = tonumber(ARGV[3])
local token = ARGV[4]
local paused = P .. 'paused'
local now = now_ms()
local out = {}

${CLAIM_ONE_LUA}
local function take(due_key, want)
  local members = redis.call('ZRANGE', due_key, '-inf', now, 'BYSCORE', 'LIMIT', 0, want)
  for _, m in ipairs(members) do claim_one(m, due_key) end
end

if #ARGV == 4 then
  if redis.call('HLEN', paused) == 0 then
    take(P .. 'due', limit)
  else
    local heads = {}
    for _, q in ipairs(redis.call('SMEMBERS', P .. 'queues')) do
      if redis.call('HEXISTS', paused, q) == 0 then
        local r = redis.call('ZRANGE', P .. 'due:' .. q, '-inf', now, 'BYSCORE', 'LIMIT', 0, limit, 'WITHSCORES')
        for i = 1, #r, 2 do heads[#heads + 1] = { tonumber(r[i + 1]), r[i], q } end
      end
    end
    table.sort(heads, function(a, b)
      if a[1] ~= b[1] then return a[1] < b[1] end
      return a[2] < b[2]
    end)
    for i = 1, math.min(limit, #heads) do claim_one(heads[i][2], P .. 'due:' .. heads[i][3]) end
  end
else
  for i = 5, #ARGV do
    local want = limit - #out
    if want <= 0 then break end
    if redis.call('HEXISTS', paused, ARGV[i]) == 0 then take(P .. 'due:' .. ARGV[i], want) end
  end
end
if #out > 0 then redis.call('ZADD', P .. 'owners', now, owner) end
return out
`;

// Claims given ids (queue.claimByIds): those whose hash says new, in an allowed queue that is
// not paused, and due now in their queue's due set. ARGV: prefix, owner, token, the number of
// queue names, the names (none: any queue), then the ids. Returns rows as CLAIM_LUA does.
export const CLAIM_IDS_LUA = `${LUA_PRELUDE}
local owner = ARGV[2]
local token = ARGV[3]
local nq = tonumber(ARGV[4])
local paused = P .. 'paused'
local now = now_ms()
local out = {}
${CLAIM_ONE_LUA}
local allowed = nil
if nq > 0 then
  allowed = {}
  for i = 5, 4 + nq do allowed[ARGV[i]] = true end
end
for i = 5 + nq, #ARGV do
  local m = member(ARGV[i])
  local queue = redis.call('HGET', job_key(ARGV[i]), 'queue')
  if queue and (not allowed or allowed[queue]) and redis.call('HEXISTS', paused, queue) == 0 then
    local due = redis.call('ZSCORE', P .. 'due:' .. queue, m)
    if due and tonumber(due) <= now then claim_one(m, P .. 'due:' .. queue) end
  end
end
if #out > 0 then redis.call('ZADD', P .. 'owners', now, owner) end
return out
`;
