import { LUA_PRELUDE } from '../keys.js';
import { FLOW_LUA, PROMOTE_BATCH } from './flow.js';
import { TAKE_LUA } from './take.js';

// Claims due jobs for one owner. One script: taking a job out of the ready sets, marking it
// processing and recording it under its owner happen together, so a runtime that dies at any
// point either never had the job or holds it on record for recovery, and two claimers never get
// the same job. Order as on MySQL: queues in the given order; within a queue, and across all
// queues when none is given, by priority, then due time, then id: the ready sets' score and
// member (keys.ts). Due jobs still in the scheduled sets are moved to the ready sets first,
// at most PROMOTE_BATCH per claim, so a claim reads only what it moves and what it takes.
// Paused queues (<p>paused) are skipped: with none paused, all queues read the shared ready set;
// with some paused, the heads of the other queues' ready sets are merged by score, so a paused
// backlog is never read past. Candidates a limit held back (take.ts) leave the ready sets, so the
// claim looks again, at most EXTRA_PASSES more times, rather than return short for a blocked head.
// ARGV: prefix, owner, limit, token (the claim's fencing token, kept in the hash), jitter seed
// (a random number in [0, 1): rate deferrals spread from it), queue names (none = every queue).
// Returns per job: id, handler, queue, payload, attempts (this run included), max_attempts,
// retry_after_ms, timeout_ms (nil for none), scheduled_at (ms), priority, retry_policy (nil for none).
const EXTRA_PASSES = 3;

export const CLAIM_LUA = `${LUA_PRELUDE}${FLOW_LUA}
local owner = ARGV[2]
local limit = tonumber(ARGV[3])
local token = ARGV[4]
local seed = tonumber(ARGV[5])
local paused = P .. 'paused'
local now = now_ms()
local out = {}
${TAKE_LUA}

-- Takes from one ready set, looking again while limits held candidates back.
local function take_from(ready_key, queue)
  for _ = 0, ${EXTRA_PASSES} do
    local want = limit - #out
    if want <= 0 then return end
    local members = redis.call('ZRANGE', ready_key, 0, want - 1)
    local held = false
    for _, m in ipairs(members) do
      if not take(m, queue) then held = true end
    end
    if not held or #members < want then return end
  end
end

if #ARGV == 5 then
  promote(P .. 'due', ${PROMOTE_BATCH}, now)
  if redis.call('HLEN', paused) == 0 then
    take_from(P .. 'ready', nil)
  else
    for _ = 0, ${EXTRA_PASSES} do
      local want = limit - #out
      if want <= 0 then break end
      local heads = {}
      for _, q in ipairs(redis.call('SMEMBERS', P .. 'queues')) do
        if redis.call('HEXISTS', paused, q) == 0 then
          local r = redis.call('ZRANGE', P .. 'ready:' .. q, 0, want - 1, 'WITHSCORES')
          for i = 1, #r, 2 do heads[#heads + 1] = { tonumber(r[i + 1]), r[i], q } end
        end
      end
      table.sort(heads, function(a, b)
        if a[1] ~= b[1] then return a[1] < b[1] end
        return a[2] < b[2]
      end)
      local held = false
      for i = 1, math.min(want, #heads) do
        if not take(heads[i][2], heads[i][3]) then held = true end
      end
      if not held or #heads < want then break end
    end
  end
else
  for i = 6, #ARGV do
    if limit - #out <= 0 then break end
    local q = ARGV[i]
    if redis.call('HEXISTS', paused, q) == 0 then
      promote(P .. 'due:' .. q, ${PROMOTE_BATCH}, now)
      take_from(P .. 'ready:' .. q, q)
    end
  end
end
if #out > 0 then redis.call('ZADD', P .. 'owners', now, owner) end
return out
`;

// Claims given ids (queue.claimByIds): those whose hash says new, in an allowed queue that is
// not paused, and due now (in their queue's ready set, or due in its scheduled set). Limits
// apply as in a claim. ARGV: prefix, owner, token, jitter seed, the number of queue names, the
// names (none: any queue), then the ids. Returns rows as CLAIM_LUA does.
export const CLAIM_IDS_LUA = `${LUA_PRELUDE}${FLOW_LUA}
local owner = ARGV[2]
local token = ARGV[3]
local seed = tonumber(ARGV[4])
local nq = tonumber(ARGV[5])
local paused = P .. 'paused'
local now = now_ms()
local out = {}
${TAKE_LUA}
local allowed = nil
if nq > 0 then
  allowed = {}
  for i = 6, 5 + nq do allowed[ARGV[i]] = true end
end
for i = 6 + nq, #ARGV do
  local m = member(ARGV[i])
  local f = redis.call('HMGET', job_key(ARGV[i]), 'queue', 'status', 'priority')
  local queue = f[1]
  if queue and f[2] == 'new' and (not allowed or allowed[queue]) and redis.call('HEXISTS', paused, queue) == 0 then
    local due = redis.call('ZSCORE', P .. 'due:' .. queue, m)
    if due and tonumber(due) <= now then
      redis.call('ZREM', P .. 'due:' .. queue, m)
      redis.call('ZREM', P .. 'due', m)
      put_ready(m, queue, ready_score(f[3], due))
    end
    if redis.call('ZSCORE', P .. 'ready:' .. queue, m) then take(m, queue) end
  end
end
if #out > 0 then redis.call('ZADD', P .. 'owners', now, owner) end
return out
`;
