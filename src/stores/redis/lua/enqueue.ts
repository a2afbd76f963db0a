import { LUA_PRELUDE } from '../keys.js';

// Inserts a chunk of jobs. One script, so a job is never visible half-written: the hash and both
// due sets appear together. Ids come from one INCRBY, so a chunk's ids are consecutive.
// ARGV: prefix, wake ('1': publish, '0': JOBS_WAKE=0 in the dispatching process), then per job:
// handler, queue, payload, delay_ms, max_attempts, retry_after_ms, timeout_ms ('' for none).
// Returns the first id.
// With wake '1', a chunk with a job due now PUBLISHes on <prefix>wake: runtimes on any host
// claim at once (wake-channel.ts). Subscribers run their claim after this script, so they see the jobs.
// The message is the chunk's first id: the key the dispatcher's same-host datagram carries too
// (wake/wake-message.ts), so a runtime that gets both claims once.
export const ENQUEUE_FIELDS = 7;

export const ENQUEUE_LUA = `${LUA_PRELUDE}
local n = (#ARGV - 2) / ${ENQUEUE_FIELDS}
local first = redis.call('INCRBY', P .. 'id', n) - n + 1
local now = now_ms()
local known = {}
local due_now = false
for i = 0, n - 1 do
  local a = 3 + i * ${ENQUEUE_FIELDS}
  local queue = ARGV[a + 1]
  local due = now + tonumber(ARGV[a + 3])
  if tonumber(ARGV[a + 3]) <= 0 then due_now = true end
  local key = job_key(first + i)
  redis.call('HSET', key, 'handler', ARGV[a], 'queue', queue, 'payload', ARGV[a + 2], 'status', 'new',
    'attempts', 0, 'max_attempts', ARGV[a + 4], 'retry_after_ms', ARGV[a + 5],
    'created_at', ms(now), 'scheduled_at', ms(due))
  if ARGV[a + 6] ~= '' then redis.call('HSET', key, 'timeout_ms', ARGV[a + 6]) end
  local m = member(first + i)
  redis.call('ZADD', P .. 'due:' .. queue, due, m)
  redis.call('ZADD', P .. 'due', due, m)
  if not known[queue] then
    redis.call('SADD', P .. 'queues', queue)
    known[queue] = true
  end
end
if due_now and ARGV[2] == '1' then redis.call('PUBLISH', P .. 'wake', string.format('%d', first)) end
return first
`;
