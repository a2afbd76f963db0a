import { LUA_PRELUDE } from '../keys.js';

// Counts per queue in one script, so the numbers are one consistent snapshot read against
// Redis's clock. A queue is reported while it holds any job, completed ones kept by
// keepCompleted included (as a table row would be). Writes nothing.
// Waiting: the ready set, the scheduled set's due part (not yet moved by a claim) and the jobs
// blocked on a concurrency key; delayed: the scheduled set's future part, rate deferrals included.
// ARGV: prefix, queue names (none = every queue). Returns per queue: name, waiting, delayed,
// processing, failed, concurrency-limited (blocked), rate-limited (deferred, not yet due).
export const COUNTS_LUA = `${LUA_PRELUDE}
local now = now_ms()
local queues = {}
if #ARGV == 1 then
  queues = redis.call('SMEMBERS', P .. 'queues')
else
  for i = 2, #ARGV do queues[#queues + 1] = ARGV[i] end
end
local out = {}
for _, q in ipairs(queues) do
  local due_key = P .. 'due:' .. q
  local blocked = redis.call('SCARD', P .. 'qblocked:' .. q)
  local waiting = redis.call('ZCARD', P .. 'ready:' .. q) + redis.call('ZCOUNT', due_key, '-inf', ms(now)) + blocked
  local delayed = redis.call('ZCOUNT', due_key, '(' .. ms(now), '+inf')
  local processing = redis.call('ZCARD', P .. 'active:' .. q)
  local failed = redis.call('ZCARD', P .. 'failed:' .. q)
  local completed = redis.call('ZCARD', P .. 'completed:' .. q)
  local rated = redis.call('ZCOUNT', P .. 'qrated:' .. q, '(' .. ms(now), '+inf')
  if waiting + delayed + processing + failed + completed > 0 then
    out[#out + 1] = { q, waiting, delayed, processing, failed, blocked, rated }
  end
end
return out
`;
