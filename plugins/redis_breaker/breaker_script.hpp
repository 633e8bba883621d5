// The Lua script that applies one breaker operation atomically inside Redis. It is the
// state machine of crosscut/sdk/breaker_state_machine.hpp, rule for rule, over two keys:
//   KEYS[1] <prefix>:{<resource>}:s  HASH  st (0 closed, 1 open, 2 half open), oa (opened at),
//                                           hs (half open since), pt (permits), sc (successes),
//                                           fo (forced open), seq (failure member counter)
//   KEYS[2] <prefix>:{<resource>}:f  ZSET  failure times (score ms; members unique)
// The hash tag {<resource>} keeps both keys in one Redis Cluster slot.
// ARGV: op, now_ms ("" = the server's TIME), failure_threshold, success_threshold,
//       timeout_ms, half_open_max_calls, sliding_window_ms, ttl_ms.
// Returns {allowed, reported state, from, to, reason, failures in window, opened_at (-1 when
// closed), forced, now_ms}; from/to are -1 and reason "" when no transition happened.
#pragma once

namespace crosscut::redis {

inline constexpr const char* kBreakerScript = R"lua(
local s, f = KEYS[1], KEYS[2]
local op = ARGV[1]
local now = tonumber(ARGV[2])
if not now then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local ft, sth = tonumber(ARGV[3]), tonumber(ARGV[4])
local timeout, hmax = tonumber(ARGV[5]), tonumber(ARGV[6])
local window, ttl = tonumber(ARGV[7]), tonumber(ARGV[8])

-- Foreign data in these keys (another type) fails the first read or write with WRONGTYPE,
-- which the backend reports; reset deletes such keys and so repairs them.
local h = redis.pcall('HMGET', s, 'st', 'oa', 'hs', 'pt', 'sc', 'fo', 'seq')
if h['err'] then
  if op ~= 'reset' then return h end
  redis.call('DEL', s, f)
  h = {}
end
local st = tonumber(h[1]) or 0
local oa = tonumber(h[2]) or 0
local hs = tonumber(h[3]) or 0
local pt = tonumber(h[4]) or 0
local sc = tonumber(h[5]) or 0
local fo = tonumber(h[6]) or 0
local seq = tonumber(h[7]) or 0
local failures = nil  -- counted once, when known
local CLOSED, OPEN, HALF = 0, 1, 2
local from, to, why = -1, -1, ''
local allowed = 0
local dirty = false

local function transition(target, reason)
  from, to, why = st, target, reason
end
local function enter_open()
  st, oa, pt, sc = OPEN, now, 0, 0
  dirty = true
end
local function enter_closed()
  st, pt, sc, fo = CLOSED, 0, 0, 0
  redis.call('DEL', f)
  failures = 0
  dirty = true
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
    enter_open()
  end
  if st == CLOSED then
    if op == 'acquire' then
      allowed = 1
    elseif op == 'failure' then
      seq = seq + 1
      redis.call('ZADD', f, now, now .. ':' .. seq)
      redis.call('ZREMRANGEBYSCORE', f, '-inf', now - window)
      failures = redis.call('ZCARD', f)
      dirty = true
      if failures >= ft then
        transition(OPEN, 'failure_threshold')
        enter_open()
      end
    end
  elseif st == OPEN then
    if op == 'acquire' and fo == 0 and now >= oa + timeout then
      transition(HALF, 'timeout_elapsed')
      st, hs, pt, sc = HALF, now, 1, 0
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
      enter_open()
    end
  end
end

if dirty then
  redis.call('HSET', s, 'st', st, 'oa', oa, 'hs', hs, 'pt', pt, 'sc', sc, 'fo', fo, 'seq', seq)
  if fo == 1 then
    -- A forced breaker stays open until an operator resets it, however long that takes.
    redis.call('PERSIST', s)
    redis.call('PERSIST', f)
  else
    redis.call('PEXPIRE', s, ttl)
    redis.call('PEXPIRE', f, ttl)
  end
end

local reported = st
if st == OPEN and fo == 0 and now >= oa + timeout then
  reported = HALF
elseif st == HALF and now >= hs + timeout then
  reported = OPEN
end
if failures == nil then failures = redis.call('ZCOUNT', f, '(' .. (now - window), '+inf') end
local opened = -1
if st ~= CLOSED then opened = oa end
return {allowed, reported, from, to, why, failures, opened, fo, now}
)lua";

}  // namespace crosscut::redis
