// The key layout, in one place for the TypeScript side and the Lua scripts. Every key starts with
// the URL's prefix (default `jobs:`), so several applications share one Redis without seeing
// each other's jobs.
//
//   <p>id                 string  last id handed out (INCRBY)
//   <p>job:<id>           hash    one job: handler queue payload status attempts max_attempts
//                                 retry_after_ms timeout_ms exception created_at scheduled_at
//                                 failed_at owner claimed_at interruptions token, and when given:
//                                 priority retry_policy unique_key unique_until conc_key conc_limit
//                                 rate_key rate_limit rate_per_ms rate_deferred
//                                 (times: ms since the epoch, by Redis's clock)
//   <p>queues             set     queue names in use (counts with no filter); a name no job
//                                 refers to any more is dropped when pruning
//   <p>ready              zset    status 'new' jobs of every queue that are due, scored by
//                                 (priority + 1000) * 2^42 + due time (lua/flow.ts): claim order
//   <p>ready:<queue>      zset    the same for one queue
//   <p>due                zset    status 'new' jobs of every queue not yet in the ready sets (delayed,
//                                 retrying, rate-deferred), scored by due time; a claim moves the
//                                 due ones into the ready sets (at most 1000 per claim). The name is
//                                 the one earlier versions kept every 'new' job under, so a prefix
//                                 they wrote is claimable as it is: its jobs are moved as they are due
//   <p>due:<queue>        zset    the same for one queue
//   <p>active:<queue>     zset    claimed jobs of one queue, scored by claim time
//   <p>owner:<owner>      set     jobs one runtime holds: what crash recovery gives back
//   <p>owners             zset    owners holding jobs, scored by their last claim: recovery finds
//                                 the jobs of owners that never registered without SCAN
//   <p>failed:<queue>     zset    failed jobs, scored by failure time
//   <p>completed:<queue>  zset    completed jobs kept with keepCompleted, scored by completion time
//   <p>qblocked:<queue>   set     jobs of one queue with status 'blocked' (counts)
//   <p>qrated:<queue>     zset    jobs of one queue a rate limit deferred, scored by their new due time
//                                 (counts; the claim that takes one drops it)
//   <p>unique:<n>:<handler>:<key>  string  id of the job holding a unique key (n: the handler's
//                                 length, so no two (handler, key) pairs share a name); set by the
//                                 enqueue script (PX: the 'for' window), deleted when the job ends
//                                 (or is claimed, until 'started') only if it still names that job
//   <p>conc:<key>         set     processing jobs of a concurrency key: the slots taken. Claims
//                                 SADD; whatever stops a job SREMs it, and only the SREM that
//                                 removed it unblocks others, so a slot is freed once
//   <p>cblocked:<key>     zset    blocked jobs of a concurrency key, scored as in the ready sets:
//                                 put back to 'new' in claim order as slots free
//   <p>rate:<per_ms>:<window>:<key>  string  starts of a rate key in one fixed window
//                                 (window = floor(now / per_ms)); INCR, expires a second after it
//   <p>runtimes           zset    registered runtimes, scored by their last heartbeat
//   <p>runtime:<id>       hash    one runtime: host pid queues threads started_at heartbeat_at and
//                                 its last stats
//   <p>paused             hash    paused queue → when it was paused (ms): claims skip these queues
//   <p>stats:<minute>     hash    jobs finished in one minute (ms / 60000, Redis clock), fields
//                                 c:<queue> (completed) and f:<queue> (failed); written by the
//                                 record script, expires 48 h after (the only expiring keys
//                                 besides leases, unique windows and rate windows: a volatile-*
//                                 eviction may drop them, never jobs)
//   <p>lease:<name>       string  holder of a named lease (the pruner's), with a TTL
//   <p>schedules          set     keys of every schedule, static and dynamic (issue 16)
//   <p>schedule:<key>     hash    one schedule: kind ('static' | 'dynamic') cron tz misfire job (the
//                                 NewJob JSON each tick enqueues) updated_at, and once ticked
//                                 last_tick_at last_job_id (never moved back)
//   <p>schedule-decl:<key>  set   runtime ids declaring a static schedule; it applies while one of
//                                 them is registered. deregister and recovery remove the runtime
//   <p>tick:<key>:<tick>  string  id of the job tick <tick> (ms) of schedule <key> enqueued: SET NX
//                                 by the tick script with its enqueue, so a tick runs once; expires
//                                 after 7 days (besides leases and windows, the only other expiring key)
//   <p>events, <p>outcome:<id>, <p>outcomes   job outcomes (issue 17): see lua/outcomes.ts
//   <p>wake               channel (pub/sub, not a key) a due dispatch publishes on it; idle
//                                 runtimes subscribe (wake-channel.ts)
//
// Sorted-set members are ids zero-padded to 16 digits: jobs due in the same millisecond then
// sort by id (Redis orders equal scores by member bytes, and '10' < '9' but '…10' > '…09').
// 16 digits hold every id up to Number.MAX_SAFE_INTEGER.

export const MEMBER_DIGITS = 16;

export function jobKey(prefix: string, id: number): string {
  return `${prefix}job:${id}`;
}

export function ownerKey(prefix: string, owner: string): string {
  return `${prefix}owner:${owner}`;
}

export function member(id: number): string {
  return String(id).padStart(MEMBER_DIGITS, '0');
}

/** Lua helpers every script starts with; ARGV[1] is always the prefix. */
export const LUA_PRELUDE = `
local P = ARGV[1]
-- Redis's clock, not the caller's: hosts whose clocks differ still agree on what is due.
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function member(id) return string.format('%0${MEMBER_DIGITS}d', tonumber(id)) end
local function job_key(id) return P .. 'job:' .. string.format('%d', tonumber(id)) end
local function ms(n) return string.format('%d', n) end
`;
