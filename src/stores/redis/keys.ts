// The key layout, in one place for the TypeScript side and the Lua scripts. Every key starts with
// the URL's prefix (default `jobs:`), so several applications share one Redis without seeing
// each other's jobs.
//
//   <p>id                 string  last id handed out (INCRBY)
//   <p>job:<id>           hash    one job: handler queue payload status attempts max_attempts
//                                 retry_after_ms timeout_ms exception created_at scheduled_at
//                                 failed_at owner claimed_at interruptions
//                                 (times: ms since the epoch, by Redis's clock)
//   <p>queues             set     queue names in use (counts with no filter); a name no job
//                                 refers to any more is dropped when pruning
//   <p>due                zset    status 'new' jobs of every queue, scored by due time
//   <p>due:<queue>        zset    status 'new' jobs of one queue, scored by due time
//   <p>active:<queue>     zset    claimed jobs of one queue, scored by claim time
//   <p>owner:<owner>      set     jobs one runtime holds: what crash recovery gives back
//   <p>owners             zset    owners holding jobs, scored by their last claim: recovery finds
//                                 the jobs of owners that never registered without SCAN
//   <p>failed:<queue>     zset    failed jobs, scored by failure time
//   <p>completed:<queue>  zset    completed jobs kept with keepCompleted, scored by completion time
//   <p>runtimes           zset    registered runtimes, scored by their last heartbeat
//   <p>runtime:<id>       hash    one runtime: host pid queues threads started_at heartbeat_at and
//                                 its last stats
//   <p>paused             hash    paused queue → when it was paused (ms): claims skip these queues
//   <p>stats:<minute>     hash    jobs finished in one minute (ms / 60000, Redis clock), fields
//                                 c:<queue> (completed) and f:<queue> (failed); written by the
//                                 record script, expires 48 h after (the only expiring keys
//                                 besides leases: a volatile-* eviction may drop them, never jobs)
//   <p>lease:<name>       string  holder of a named lease (the pruner's), with a TTL
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
