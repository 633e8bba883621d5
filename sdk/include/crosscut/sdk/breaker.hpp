// The circuit breaker state machine's vocabulary and the BreakerBackend interface that holds
// breaker state (in memory, in Redis, or in a third-party store).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "crosscut/sdk/abi.hpp"
#include "crosscut/sdk/component.hpp"

CROSSCUT_SDK_BEGIN_NAMESPACE

enum class BreakerState : std::uint8_t { closed, open, half_open };

constexpr std::string_view state_name(BreakerState s) {
  switch (s) {
    case BreakerState::closed:
      return "CLOSED";
    case BreakerState::open:
      return "OPEN";
    case BreakerState::half_open:
      return "HALF_OPEN";
  }
  return "UNKNOWN";
}

// A quorum trip: CLOSED -> OPEN also needs the failures in the window to come from at least
// min_instances distinct instances (BreakerOpArgs::instance), so that one instance's bad
// network route does not open a healthy resource's breaker for the whole fleet. 1: any.
struct BreakerQuorum {
  std::uint32_t min_instances = 1;
};

// The longest instance id accepted (BreakerOpArgs::instance).
inline constexpr std::size_t kMaxBreakerInstanceBytes = 256;

// What opens a CLOSED breaker: failure_threshold failures in the window (count), or the share
// of failed or slow outcomes among at least minimum_calls outcomes in the window (rate).
enum class BreakerMode : std::uint8_t { count, rate };

// The most time buckets a rate-mode breaker keeps (sliding_window / bucket): bounds its memory
// whatever the call rate.
inline constexpr std::int64_t kMaxBreakerBuckets = 10'000;

// The thresholds of one breaker. check_policy() says what is wrong with a policy, if anything.
struct BreakerPolicy {
  std::uint32_t failure_threshold = 5;
  std::uint32_t success_threshold = 2;
  std::chrono::milliseconds timeout{60'000};
  std::uint32_t half_open_max_calls = 3;
  std::chrono::milliseconds sliding_window{300'000};
  // Open-duration backoff: each re-open from HALF_OPEN multiplies the previous opening's
  // base duration (before jitter) by backoff_multiplier, up to max_timeout (0: timeout, so no
  // growth); closing starts again from timeout. Used to four decimal places.
  double backoff_multiplier = 1.0;
  std::chrono::milliseconds max_timeout{0};
  // Every open duration is spread by up to ±jitter of it (0 to 0.5, four decimal places),
  // decided once at the opening from the key and the time, so every instance agrees.
  double jitter = 0.0;
  BreakerQuorum quorum;
  // Rate mode: outcomes (successes and failures in CLOSED) are counted per `bucket` of time;
  // with at least minimum_calls in the window, failures / outcomes >= failure_rate opens, and
  // so does slow / outcomes >= slow_call_rate, an outcome being slow when its call took
  // slow_call_duration or longer (0: no slow-call rule). Rates are used to four decimal places.
  BreakerMode mode = BreakerMode::count;
  std::chrono::milliseconds bucket{1'000};
  std::uint32_t minimum_calls = 10;
  double failure_rate = 0.5;
  std::chrono::milliseconds slow_call_duration{0};
  double slow_call_rate = 1.0;
};

// The longest timeout or max_timeout accepted (about 28 years): keeps the backoff and jitter
// arithmetic exact in integers and in the Redis script's doubles.
inline constexpr std::int64_t kMaxBreakerTimeoutMs = 900'000'000'000;

inline std::optional<std::string> check_policy(const BreakerPolicy& p) {
  if (p.failure_threshold < 1) return "failure_threshold must be >= 1";
  if (p.success_threshold < 1) return "success_threshold must be >= 1";
  if (p.half_open_max_calls < 1) return "half_open_max_calls must be >= 1";
  if (p.timeout.count() <= 0) return "timeout must be > 0";
  if (p.sliding_window.count() <= 0) return "sliding_window must be > 0";
  if (p.success_threshold > p.half_open_max_calls)
    return "success_threshold (" + std::to_string(p.success_threshold) +
           ") must be <= half_open_max_calls (" + std::to_string(p.half_open_max_calls) +
           "), otherwise the breaker could never close";
  if (p.timeout.count() > kMaxBreakerTimeoutMs || p.max_timeout.count() > kMaxBreakerTimeoutMs)
    return "timeout and max_timeout must be at most " + std::to_string(kMaxBreakerTimeoutMs) + "ms";
  if (p.max_timeout.count() < 0) return "max_timeout must be >= 0";
  // Written so that NaN fails too.
  if (!(p.backoff_multiplier >= 1.0 && p.backoff_multiplier <= 100.0))
    return "backoff_multiplier must be from 1 to 100";
  if (!(p.jitter >= 0.0 && p.jitter <= 0.5)) return "jitter must be from 0 to 0.5";
  if (p.quorum.min_instances < 1 || p.quorum.min_instances > 1000)
    return "quorum.min_instances must be from 1 to 1000";
  if (p.max_timeout.count() != 0 && p.max_timeout < p.timeout)
    return "max_timeout (" + std::to_string(p.max_timeout.count()) + "ms) must be >= timeout (" +
           std::to_string(p.timeout.count()) + "ms)";
  if (p.backoff_multiplier > 1.0 && p.max_timeout <= p.timeout)
    return "backoff_multiplier above 1 needs a max_timeout above timeout (the longest open "
           "duration), otherwise the open duration cannot grow";
  if (p.mode != BreakerMode::count && p.mode != BreakerMode::rate) return "unknown mode";
  if (p.minimum_calls < 1) return "minimum_calls must be >= 1";
  // A rate of at least 0.0001 (it is used in ten-thousandths) and at most 1; NaN fails too.
  if (!(p.failure_rate >= 0.0001 && p.failure_rate <= 1.0))
    return "failure_rate must be above 0 (at least 0.0001) and at most 1";
  if (!(p.slow_call_rate >= 0.0001 && p.slow_call_rate <= 1.0))
    return "slow_call_rate must be above 0 (at least 0.0001) and at most 1";
  if (p.slow_call_duration.count() < 0 || p.slow_call_duration.count() > kMaxBreakerTimeoutMs)
    return "slow_call_duration must be from 0 to " + std::to_string(kMaxBreakerTimeoutMs) + "ms";
  if (p.bucket.count() <= 0) return "bucket must be > 0";
  if (p.mode == BreakerMode::rate) {
    if (p.bucket > p.sliding_window)
      return "bucket (" + std::to_string(p.bucket.count()) + "ms) must be <= sliding_window (" +
             std::to_string(p.sliding_window.count()) + "ms)";
    // The buckets the window spans, a partial one counted whole.
    if ((p.sliding_window.count() - 1) / p.bucket.count() + 1 > kMaxBreakerBuckets)
      return "sliding_window / bucket must be at most " + std::to_string(kMaxBreakerBuckets) +
             " buckets (a larger bucket bounds the memory a breaker keeps)";
  } else if (p.slow_call_duration.count() > 0) {
    return "slow_call_duration needs mode: rate (count mode counts failures only)";
  }
  return std::nullopt;
}

// open_until: OPEN until a given time (a server's Retry-After or ban), then as any OPEN
// breaker; see BreakerOpArgs.
enum class BreakerOp : std::uint8_t {
  acquire,
  success,
  failure,
  state,
  reset,
  force_open,
  open_until
};

constexpr std::string_view op_name(BreakerOp op) {
  switch (op) {
    case BreakerOp::acquire:
      return "acquire";
    case BreakerOp::success:
      return "success";
    case BreakerOp::failure:
      return "failure";
    case BreakerOp::state:
      return "state";
    case BreakerOp::reset:
      return "reset";
    case BreakerOp::force_open:
      return "force_open";
    case BreakerOp::open_until:
      return "open_until";
  }
  return "unknown";
}

inline std::optional<BreakerOp> parse_op(std::string_view s) {
  for (auto op : {BreakerOp::acquire, BreakerOp::success, BreakerOp::failure, BreakerOp::state,
                  BreakerOp::reset, BreakerOp::force_open, BreakerOp::open_until})
    if (op_name(op) == s) return op;
  return std::nullopt;
}

// Why a transition happened.
enum class TransitionReason : std::uint8_t {
  failure_threshold,  // CLOSED -> OPEN: failures in the window reached the threshold
  timeout_elapsed,    // OPEN -> HALF_OPEN: first acquire after the open period
  success_threshold,  // HALF_OPEN -> CLOSED
  half_open_failure,  // HALF_OPEN -> OPEN: a failure during the trial period
  half_open_expired,  // HALF_OPEN -> OPEN: the trial period ran out undecided
  reset,              // operator reset
  forced_open,        // operator force_open
  opened_until,       // CLOSED or HALF_OPEN -> OPEN: open_until
  failure_rate,       // CLOSED -> OPEN (rate mode): failed outcomes reached failure_rate
  slow_call_rate,     // CLOSED -> OPEN (rate mode): slow outcomes reached slow_call_rate
};

constexpr std::string_view reason_name(TransitionReason r) {
  switch (r) {
    case TransitionReason::failure_threshold:
      return "failure_threshold";
    case TransitionReason::timeout_elapsed:
      return "timeout_elapsed";
    case TransitionReason::success_threshold:
      return "success_threshold";
    case TransitionReason::half_open_failure:
      return "half_open_failure";
    case TransitionReason::half_open_expired:
      return "half_open_expired";
    case TransitionReason::reset:
      return "reset";
    case TransitionReason::forced_open:
      return "forced_open";
    case TransitionReason::opened_until:
      return "opened_until";
    case TransitionReason::failure_rate:
      return "failure_rate";
    case TransitionReason::slow_call_rate:
      return "slow_call_rate";
  }
  return "unknown";
}

struct StateChange {
  BreakerState from;
  BreakerState to;
  TransitionReason reason;
};

// What one operation did and left behind.
struct BreakerResult {
  bool allowed = false;                       // acquire: a permit was granted
  BreakerState state = BreakerState::closed;  // as a `state` query would report right after
  std::optional<StateChange> transition;      // the one transition this operation made, if any
  std::uint32_t failures = 0;                 // failures in the sliding window after the operation
  // Rate mode: the outcomes in the window after the operation, and how many were slow.
  std::uint32_t calls = 0;
  std::uint32_t slow_calls = 0;
  std::optional<std::int64_t> opened_at_ms;
  // OPEN: the time it reads HALF_OPEN at (opened_at + its open duration, or a later
  // open_until time).
  std::optional<std::int64_t> open_until_ms;
  bool forced_open = false;
  std::int64_t now_ms = 0;  // the time the operation was evaluated at
  bool degraded = false;    // answered by an unavailability policy, not the store
};

// What an operation carries besides its kind; each field is read only by the ops it names.
struct BreakerOpArgs {
  // open_until: OPEN until at least max(until_ms, now + for_ms), the operation's time `now`
  // being the backend's (Redis' TIME with use_server_time): a Retry-After of N ms is for_ms N.
  std::int64_t until_ms = 0;
  std::int64_t for_ms = 0;
  // failure: the instance that saw it, for a quorum (BreakerQuorum); at most
  // kMaxBreakerInstanceBytes. Backends treat the empty id as one more instance; the host fills
  // in its own id (breakers.instance) when the caller gives none.
  std::string_view instance{};
  // success and failure: how long the call took, in ms (negative: not measured, never slow);
  // read in rate mode against slow_call_duration. At most kMaxBreakerTimeMs.
  std::int64_t duration_ms = -1;
};

// The largest until_ms and for_ms accepted: 2099-12-31T23:59:59.999Z in epoch ms (and as a
// duration, about 130 years). Together with any operation time up to it, every sum the state
// machine and the Redis script make stays exact (far below 2^53).
inline constexpr std::int64_t kMaxBreakerTimeMs = 4'102'444'799'999;

// What is wrong with `args`, if anything.
inline std::optional<std::string> check_op_args(const BreakerOpArgs& args) {
  if (args.until_ms < 0 || args.until_ms > kMaxBreakerTimeMs)
    return "until_ms must be from 0 to " + std::to_string(kMaxBreakerTimeMs);
  if (args.for_ms < 0 || args.for_ms > kMaxBreakerTimeMs)
    return "for_ms must be from 0 to " + std::to_string(kMaxBreakerTimeMs);
  if (args.duration_ms > kMaxBreakerTimeMs)
    return "duration_ms must be at most " + std::to_string(kMaxBreakerTimeMs);
  if (args.instance.size() > kMaxBreakerInstanceBytes)
    return "instance must be at most " + std::to_string(kMaxBreakerInstanceBytes) + " bytes";
  return std::nullopt;
}

// Holds breaker state per resource key and applies the state machine documented in docs/
//
// Thread-safety: apply() is called concurrently from any number of threads (and, for shared
// stores, processes); each call must be atomic per key: no two operations on one key may
// interleave. Every backend must pass the SDK's conformance suite
// (crosscut/sdk/testing/breaker_conformance.hpp).
//
// Errors: an unreachable store is not an exception; the backend applies its own
// unavailability policy and sets `degraded`. apply() throws only for caller errors (e.g. an
// invalid policy), with a message naming the problem.
class CROSSCUT_SDK_API BreakerBackend : public Component {
 public:
  static constexpr ComponentKind component_kind = ComponentKind::breaker_backend;

  // now_ms: the operation's time in epoch milliseconds, or nullopt for the backend's own clock
  // (the host clock for memory, the server's TIME for Redis).
  // Throws std::invalid_argument for args check_op_args() rejects, before the backend sees them.
  BreakerResult apply(std::string_view key, BreakerOp op, const BreakerPolicy& policy,
                      std::optional<std::int64_t> now_ms, const BreakerOpArgs& args = {}) {
    if (op == BreakerOp::open_until || !args.instance.empty() || args.duration_ms > 0) {
      if (auto problem = check_op_args(args))
        throw std::invalid_argument("breaker " + std::string(op_name(op)) + ": " + *problem);
    }
    return apply_op(key, op, policy, now_ms, args);
  }

  // Keys the backend holds state for, for `crosscut breaker status` without keys. Backends
  // that cannot enumerate return an empty list.
  virtual std::vector<std::string> keys() { return {}; }

 protected:
  // What apply() does; a backend overrides this one.
  virtual BreakerResult apply_op(std::string_view key, BreakerOp op, const BreakerPolicy& policy,
                                 std::optional<std::int64_t> now_ms, const BreakerOpArgs& args) = 0;
};

CROSSCUT_SDK_END_NAMESPACE
