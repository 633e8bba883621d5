// The Lua script that applies one breaker operation atomically inside Redis. It is the
// state machine of crosscut/sdk/breaker_state_machine.hpp, rule for rule, over two keys:
//   KEYS[1] <prefix>:{<resource>}:s  HASH  st (0 closed, 1 open, 2 half open), oa (opened at),
//                                           hs (half open since), pt (permits), sc (successes),
//                                           fo (forced open), seq (failure member counter),
//                                           v (version: grows with every change),
//                                           ou (open until, ms; 0 none),
//                                           ob (open base: the duration before jitter, grown by
//                                           backoff), od (open duration after jitter; 0: timeout),
//                                           rn, rf, rw (rate mode: calls, failures and slow calls
//                                           in the buckets of KEYS[4])
//   KEYS[2] <prefix>:{<resource>}:f  ZSET  failure times (score ms; members "<ms>:<seq>")
//   KEYS[3] <prefix>:{<resource>}:q  ZSET  quorum: each failing instance (member) and its latest
//                                           failure time (score ms); only with min_instances > 1
//   KEYS[4] <prefix>:{<resource>}:b  ZSET  rate mode: one member per time bucket with outcomes,
//                                           "<start>:<calls>:<failures>:<slow>" (score start ms)
// The hash tag {<resource>} keeps the keys in one Redis Cluster slot.
// ARGV: op, now_ms ("" = the server's TIME), failure_threshold, success_threshold,
//       timeout_ms, half_open_max_calls, sliding_window_ms, ttl_ms, channel, resource,
//       until_ms, for_ms (open_until: OPEN until max(until_ms, now + for_ms)),
//       backoff_multiplier and jitter (in ten-thousandths), max_timeout_ms,
//       quorum_min_instances, instance (failure: the instance that saw it), mode ("rate" or
//       "count"), bucket_ms, minimum_calls, failure_rate and slow_call_rate (in
//       ten-thousandths), slow_call_duration_ms, duration_ms (success and failure; -1: unknown).
// Returns {allowed, reported state, from, to, reason, failures in window, opened_at (-1 when
// closed), forced, now_ms, version, stored state, half_open_since, {the newest 16 failures in
// the window, as "<ms>:<seq>" members}, open_until, open duration, calls in the window, slow
// calls in the window} (rate mode; 0 in count mode);
// from/to are -1 and reason "" when no transition happened.
//
// Every change (except a rate-mode outcome that opens nothing: views hold no buckets) is
// published on ARGV[9] as "v st oa hs fo ou od failures times resource" (times: the
// newest 16 failure members in the window joined by ',', or '-'), so that processes keeping a local
// view of the breaker (breaker_view.hpp) learn of it at once. The version starts from the server's
// clock in ms, so it keeps growing when an idle key expires and is written again.
#pragma once

namespace crosscut::redis {

inline constexpr const char* kBreakerScript = R"lua(
local s, f, q, b = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local op = ARGV[1]
local function server_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local now = tonumber(ARGV[2])
local server_now = nil
if not now then
  server_now = server_ms()
  now = server_now
end
local ft, sth = tonumber(ARGV[3]), tonumber(ARGV[4])
local timeout, hmax = tonumber(ARGV[5]), tonumber(ARGV[6])
local window, ttl = tonumber(ARGV[7]), tonumber(ARGV[8])
local channel, resource = ARGV[9], ARGV[10]
local until_ms, for_ms = tonumber(ARGV[11]) or 0, tonumber(ARGV[12]) or 0
local mult, jit = tonumber(ARGV[13]) or 10000, tonumber(ARGV[14]) or 0
local cap = math.max(tonumber(ARGV[15]) or 0, timeout)
local quorum, instance = tonumber(ARGV[16]) or 1, ARGV[17] or ''
local rate = ARGV[18] == 'rate'
local bucket, min_calls = tonumber(ARGV[19]) or 1000, tonumber(ARGV[20]) or 1
local fr, sr = tonumber(ARGV[21]) or 10000, tonumber(ARGV[23]) or 10000
local slow_ms, duration = tonumber(ARGV[22]) or 0, tonumber(ARGV[24]) or -1

-- Foreign data in these keys (another type) fails the first read or write with WRONGTYPE,
-- which the backend reports; reset deletes such keys and so repairs them.
local h = redis.pcall('HMGET', s, 'st', 'oa', 'hs', 'pt', 'sc', 'fo', 'seq', 'v', 'ou', 'ob', 'od',
                     'rn', 'rf', 'rw')
if h['err'] then
  if op ~= 'reset' then return h end
  redis.call('DEL', s, f, q, b)
  h = {}
end
-- The quorum and bucket sets are checked before anything is written, for the same reason.
local function check_zset(key, what)
  local kind = redis.call('TYPE', key)['ok']
  if kind ~= 'zset' and kind ~= 'none' then
    return redis.error_reply('WRONGTYPE ' .. key .. ' holds a ' .. kind .. ', not ' .. what)
  end
end
if op ~= 'reset' then
  local bad = (quorum > 1 and check_zset(q, 'a quorum set')) or (rate and check_zset(b, 'a bucket set'))
  if bad then return bad end
end
local st = tonumber(h[1]) or 0
local oa = tonumber(h[2]) or 0
local hs = tonumber(h[3]) or 0
local pt = tonumber(h[4]) or 0
local sc = tonumber(h[5]) or 0
local fo = tonumber(h[6]) or 0
local seq = tonumber(h[7]) or 0
local v = tonumber(h[8]) or 0
local ou = tonumber(h[9]) or 0
local ob = tonumber(h[10]) or 0
local od = tonumber(h[11]) or 0
local rn, rf, rw = tonumber(h[12]) or 0, tonumber(h[13]) or 0, tonumber(h[14]) or 0
local fresh = not h[1]  -- no state hash: a new key, or one that expired (or was evicted)
local failures = nil  -- in the window; counted once, when known
local calls, slow_calls = 0, 0  -- rate mode, in the window
local CLOSED, OPEN, HALF = 0, 1, 2
local from, to, why = -1, -1, ''
local allowed = 0
local dirty = false
local publish = true  -- a rate-mode outcome that opens nothing changes nothing views hold

local function transition(target, reason)
  from, to, why = st, target, reason
end
-- Backoff and jitter, as the state machine's scale_ms and jittered_ms: integers below 2^52,
-- so every division and product here is exact in doubles.
local M = 2147483647
local function minstd(x) return (x * 48271) % M end
local function scale(ms, factor)
  return math.floor(ms / 10000) * factor + math.floor((ms % 10000) * factor / 10000)
end
local function jittered(base)
  local span = scale(base, jit)
  if span <= 0 then return base end
  local seed = 0
  for i = 1, #resource do seed = (seed * 31 + string.byte(resource, i)) % M end
  local x = (seed + now % M) % M
  if x == 0 then x = 1 end
  local high = minstd(minstd(x))
  local r = high * 2097152 + minstd(high) % 2097152
  return base - span + r % (2 * span + 1)
end
-- backoff: a re-open from HALF_OPEN, which grows the previous opening's base duration.
local function enter_open(backoff)
  local base = ob
  if st == CLOSED or base <= 0 then base = timeout end
  if backoff then base = scale(base, mult) end
  base = math.min(math.max(base, timeout), cap)
  ob, od = base, jittered(base)
  st, oa, ou, pt, sc = OPEN, now, 0, 0, 0
  dirty = true
end
-- When an OPEN breaker's rejections end: its open duration, or a later open_until time.
local function open_ends()
  local duration = od
  if duration <= 0 then duration = timeout end
  return math.max(oa + duration, ou)
end
local function enter_closed()
  st, pt, sc, fo, ou, ob, od = CLOSED, 0, 0, 0, 0, 0, 0
  rn, rf, rw = 0, 0, 0
  redis.call('DEL', f, q, b)
  failures, calls, slow_calls = 0, 0, 0
  dirty = true
end
-- Rate mode. rn, rf and rw total the buckets stored; those with start + window <= now are
-- outside the window, and are subtracted. An outcome drops them, measuring from the newest
-- bucket when that is ahead of now (times that went back), so at most window / bucket + 1
-- remain.
local function bucket_counts(member)
  local n, fl, w = string.match(member, '^%-?%d+:(%d+):(%d+):(%d+)$')
  return tonumber(n) or 0, tonumber(fl) or 0, tonumber(w) or 0
end
-- The totals describe the members of b: when one of the two keys went without the other
-- (evicted alone under maxmemory, deleted by hand), nothing of the other counts.
-- `repair`: an outcome is about to write, and deletes a leftover bucket set first.
local function check_totals(repair)
  if fresh then
    if repair then redis.call('DEL', b) end
  elseif rn ~= 0 and redis.call('EXISTS', b) == 0 then
    rn, rf, rw = 0, 0, 0
  end
end
local function rate_window(drop)
  local n0, f0, w0 = rn, rf, rw
  local cutoff = now - window
  if drop then
    local newest = redis.call('ZRANGE', b, -1, -1, 'WITHSCORES')
    if #newest == 2 then cutoff = math.max(now, tonumber(newest[2])) - window end
  end
  local old = redis.call('ZRANGEBYSCORE', b, '-inf', cutoff)
  for _, m in ipairs(old) do
    local n, fl, w = bucket_counts(m)
    n0, f0, w0 = n0 - n, f0 - fl, w0 - w
  end
  if drop and #old > 0 then
    redis.call('ZREMRANGEBYSCORE', b, '-inf', cutoff)
    rn, rf, rw = n0, f0, w0
  end
  return n0, f0, w0
end
-- Counts a CLOSED outcome in its bucket, drops the buckets outside the window, and returns
-- the opening it makes, if any.
local function rate_outcome(failed)
  check_totals(true)
  local is_slow = slow_ms > 0 and duration >= slow_ms
  local start = now - now % bucket
  local cur = redis.call('ZRANGEBYSCORE', b, start, start)
  local n, fl, w = 0, 0, 0
  if #cur > 0 then
    n, fl, w = bucket_counts(cur[1])
    redis.call('ZREM', b, cur[1])
  end
  n, rn = n + 1, rn + 1
  if failed then fl, rf = fl + 1, rf + 1 end
  if is_slow then w, rw = w + 1, rw + 1 end
  redis.call('ZADD', b, start, string.format('%d:%d:%d:%d', start, n, fl, w))
  calls, failures, slow_calls = rate_window(true)
  dirty = true
  if quorum > 1 then
    if failed or is_slow then
      local last = tonumber(redis.call('ZSCORE', q, instance))
      if not last or last < now then redis.call('ZADD', q, now, instance) end
    end
    redis.call('ZREMRANGEBYSCORE', q, '-inf', now - window)
    if redis.call('ZCARD', q) < quorum then return nil end
  end
  if calls < min_calls then return nil end
  if failures * 10000 >= fr * calls then return 'failure_rate' end
  if slow_ms > 0 and slow_calls * 10000 >= sr * calls then return 'slow_call_rate' end
  return nil
end

if op == 'reset' then
  if st ~= CLOSED then transition(CLOSED, 'reset') end
  enter_closed()
elseif op == 'force_open' then
  if st ~= OPEN then
    transition(OPEN, 'forced_open')
    enter_open()
  end
  fo = 1
  dirty = true
else
  if st == HALF and now >= hs + timeout then
    transition(OPEN, 'half_open_expired')
    enter_open(true)
  end
  if op == 'open_until' then
    local until_time = until_ms
    if for_ms > 0 then until_time = math.max(until_time, now + for_ms) end
    if until_time > now then
      if st ~= OPEN then
        transition(OPEN, 'opened_until')
        enter_open()
      end
      ou = math.max(ou, until_time)
      dirty = true
    end
  elseif st == CLOSED then
    if op == 'acquire' then
      allowed = 1
    elseif rate and (op == 'success' or op == 'failure') then
      local reason = rate_outcome(op == 'failure')
      if reason then
        transition(OPEN, reason)
        enter_open()
      else
        publish = false
      end
    elseif op == 'failure' then
      seq = seq + 1
      redis.call('ZADD', f, now, string.format('%d:%d', now, seq))
      redis.call('ZREMRANGEBYSCORE', f, '-inf', now - window)
      dirty = true
      failures = redis.call('ZCARD', f)
      local enough = true
      if quorum > 1 then
        -- The newest ft failures decide the opening; the instances' latest failures, the quorum.
        if failures > ft then
          redis.call('ZREMRANGEBYRANK', f, 0, failures - ft - 1)
          failures = ft
        end
        local last = tonumber(redis.call('ZSCORE', q, instance))
        if not last or last < now then redis.call('ZADD', q, now, instance) end
        redis.call('ZREMRANGEBYSCORE', q, '-inf', now - window)
        enough = redis.call('ZCARD', q) >= quorum
      end
      if enough and failures >= ft then
        transition(OPEN, 'failure_threshold')
        enter_open()
      end
    end
  elseif st == OPEN then
    if op == 'acquire' and fo == 0 and now >= open_ends() then
      transition(HALF, 'timeout_elapsed')
      st, hs, ou, pt, sc = HALF, now, 0, 1, 0
      allowed = 1
      dirty = true
    end
  else
    if op == 'acquire' then
      if pt < hmax then
        pt = pt + 1
        allowed = 1
        dirty = true
      end
    elseif op == 'success' then
      sc = sc + 1
      dirty = true
      if sc >= sth then
        transition(CLOSED, 'success_threshold')
        enter_closed()
      end
    elseif op == 'failure' then
      transition(OPEN, 'half_open_failure')
      enter_open(true)
    end
  end
end

-- The failures in the window, and the newest 16 of them ("<ms>:<seq>" members: the view's
-- copy stays small whatever the threshold).
if failures == nil then
  if rate then
    check_totals(false)
    calls, failures, slow_calls = rate_window(false)
  else
    failures = redis.call('ZCOUNT', f, '(' .. (now - window), '+inf')
  end
end
local times = {}
if failures > 0 and not rate then
  times = redis.call('ZREVRANGEBYSCORE', f, '+inf', '(' .. (now - window), 'LIMIT', 0, 16)
end

if dirty then
  -- A key written for the first time (or again after it expired) starts from the server's
  -- clock, so its versions keep growing across the expiry.
  if v == 0 then v = server_now or server_ms() else v = v + 1 end
  redis.call('HSET', s, 'st', st, 'oa', oa, 'hs', hs, 'pt', pt, 'sc', sc, 'fo', fo, 'seq', seq,
             'v', v, 'ou', ou, 'ob', ob, 'od', od, 'rn', rn, 'rf', rf, 'rw', rw)
  if fo == 1 then
    -- A forced breaker stays open until an operator resets it, however long that takes.
    redis.call('PERSIST', s)
    redis.call('PERSIST', f)
    redis.call('PERSIST', q)
    redis.call('PERSIST', b)
  else
    -- An open_until beyond the TTL keeps the keys until then, and a TTL after it.
    local keep = math.max(ttl, ou - now + ttl)
    redis.call('PEXPIRE', s, keep)
    redis.call('PEXPIRE', f, keep)
    redis.call('PEXPIRE', q, keep)
    redis.call('PEXPIRE', b, keep)
  end
end
if dirty and publish then
  local listed = '-'
  if #times > 0 then listed = table.concat(times, ',') end
  -- pcall: a user without the channel right (Redis 7 ACLs grant none by default) still has
  -- its operations applied; views then learn of them at their next re-read. %d, because '..'
  -- would print a number above 1e14 in exponent form.
  redis.pcall('PUBLISH', channel, string.format('%d %d %d %d %d %d %d %d ', v, st, oa, hs, fo,
              ou, od, failures) .. listed .. ' ' .. resource)
end

local reported = st
if st == OPEN and fo == 0 and now >= open_ends() then
  reported = HALF
elseif st == HALF and now >= hs + timeout then
  reported = OPEN
end
local opened = -1
if st ~= CLOSED then opened = oa end
return {allowed, reported, from, to, why, failures, opened, fo, now, v, st, hs, times, ou, od, calls,
        slow_calls}
)lua";

// Reads one breaker for a process's local view (breaker_view.hpp), without changing it.
// KEYS as above. Returns {version, stored state, opened_at, half_open_since, forced,
// failures kept, {the newest 16 failure members}, open_until, open duration}, or -1 when the
// keys hold foreign data.
inline constexpr const char* kBreakerReadScript = R"lua(
local h = redis.pcall('HMGET', KEYS[1], 'v', 'st', 'oa', 'hs', 'fo', 'ou', 'od')
if h['err'] then return -1 end
local times = redis.pcall('ZREVRANGE', KEYS[2], 0, 15)
if times['err'] then return -1 end
return {tonumber(h[1]) or 0, tonumber(h[2]) or 0, tonumber(h[3]) or 0, tonumber(h[4]) or 0,
        tonumber(h[5]) or 0, redis.call('ZCARD', KEYS[2]), times, tonumber(h[6]) or 0,
        tonumber(h[7]) or 0}
)lua";

}  // namespace crosscut::redis
