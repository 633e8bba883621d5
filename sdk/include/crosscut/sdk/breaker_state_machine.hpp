// The reference implementation of the circuit breaker state machine, over plain
// per-key data. Header-only and dependency-free: the memory backend runs it under its locks, and
// any other backend (a Redis backend's process-local fallback, a third-party store) can run it
// too, or port it rule by rule and check itself with the conformance suite
// (crosscut/sdk/testing/breaker_conformance.hpp).
//
//   crosscut::sdk::BreakerData data;                         // one per resource key
//   auto r = crosscut::sdk::apply(data, BreakerOp::failure, policy, now_ms);
//   if (r.transition) publish_transition(key, *r.transition, r.now_ms);
//
// Not synchronised: the caller makes each apply() on one key's data atomic (a lock, a script).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "crosscut/sdk/abi.hpp"
#include "crosscut/sdk/breaker.hpp"

CROSSCUT_SDK_BEGIN_NAMESPACE

// Rate mode: the outcomes of one bucket of time, [start_ms, start_ms + bucket).
struct BreakerBucket {
  std::int64_t start_ms = 0;
  std::uint32_t calls = 0;
  std::uint32_t failures = 0;
  std::uint32_t slow = 0;
};

// Everything the state machine keeps for one resource key. A default-constructed value is a
// fresh CLOSED breaker with no failures, which is what an unknown key means.
struct BreakerData {
  BreakerState state = BreakerState::closed;  // the stored state (see reported_state())
  // Failure times (epoch ms), sorted ascending. Only CLOSED adds failures and it opens once
  // they reach failure_threshold, so this never holds more than the largest threshold used
  // (with a quorum, the newest failure_threshold are kept: enough to decide the opening).
  std::vector<std::int64_t> failure_times;
  // Quorum (min_instances > 1): each instance with a failure (or, in rate mode, a slow call)
  // in the window, and its latest one's time.
  std::vector<std::pair<std::string, std::int64_t>> failing_instances;
  // Rate mode: the buckets with outcomes, by start ascending; at most sliding_window / bucket
  // + 1 after any outcome (older ones are dropped then).
  std::vector<BreakerBucket> buckets;
  std::int64_t opened_at_ms = 0;   // OPEN: when it opened (meaningful unless CLOSED)
  std::int64_t open_until_ms = 0;  // OPEN: stays OPEN until at least then (0: no such time)
  // The opening's duration before jitter, grown by backoff on each re-open (0 when CLOSED),
  // and its duration after jitter: OPEN lasts that long (0: the policy's timeout).
  std::int64_t open_base_ms = 0;
  std::int64_t open_duration_ms = 0;
  std::int64_t half_open_since_ms = 0;  // HALF_OPEN: when the trial period began
  std::uint32_t permits_taken = 0;      // HALF_OPEN: acquires granted in this period
  std::uint32_t successes = 0;          // HALF_OPEN: successes reported in this period
  bool forced_open = false;             // OPEN by force_open: never turns HALF_OPEN until reset
  // The key's share of the jitter: a backend sets it to jitter_seed(key) when it creates the
  // data, so that breakers opening at one instant spread differently.
  std::uint32_t jitter_seed = 0;
};

// A key's jitter seed: a polynomial hash modulo 2^31 - 1, which the Redis script computes
// the same way with exact arithmetic in doubles.
inline std::uint32_t jitter_seed(std::string_view key) {
  std::int64_t h = 0;
  for (const unsigned char c : key) h = (h * 31 + c) % 2'147'483'647;
  return static_cast<std::uint32_t>(h);
}

// Rate mode: the outcomes of the buckets still inside the window at `now` (start +
// sliding_window > now). `failures` is the failures in the window in either mode.
struct BreakerWindow {
  std::uint32_t calls = 0;
  std::uint32_t failures = 0;
  std::uint32_t slow = 0;
};

inline BreakerWindow window_at(const BreakerData& d, const BreakerPolicy& p, std::int64_t now_ms) {
  const std::int64_t cutoff = now_ms - p.sliding_window.count();  // t <= cutoff is outside
  BreakerWindow w;
  if (p.mode == BreakerMode::rate) {
    for (const BreakerBucket& b : d.buckets) {
      if (b.start_ms <= cutoff) continue;
      w.calls += b.calls;
      w.failures += b.failures;
      w.slow += b.slow;
    }
  } else {
    auto first_inside = std::upper_bound(d.failure_times.begin(), d.failure_times.end(), cutoff);
    w.failures = static_cast<std::uint32_t>(d.failure_times.end() - first_inside);
  }
  return w;
}

// Failures `t` still inside the window at `now`: those with `t + sliding_window > now` (in
// rate mode, those of the buckets inside it).
inline std::uint32_t failures_in_window(const BreakerData& d, const BreakerPolicy& p,
                                        std::int64_t now_ms) {
  return window_at(d, p, now_ms).failures;
}

// When an OPEN breaker's rejections end: its open duration after it opened (the timeout,
// grown by backoff and spread by jitter), or its open_until time when that is later.
inline std::int64_t open_ends_ms(const BreakerData& d, const BreakerPolicy& p) {
  const std::int64_t duration = d.open_duration_ms > 0 ? d.open_duration_ms : p.timeout.count();
  return std::max(d.opened_at_ms + duration, d.open_until_ms);
}

// The state a `state` query at `now` reports, without changing anything: an OPEN breaker
// whose open period has ended (open_ends_ms) reads HALF_OPEN (the next acquire will make it
// so), unless it was forced open; a HALF_OPEN breaker whose trial period ran out reads OPEN
// (the next operation will reopen it).
inline BreakerState reported_state(const BreakerData& d, const BreakerPolicy& p,
                                   std::int64_t now_ms) {
  switch (d.state) {
    case BreakerState::closed:
      return BreakerState::closed;
    case BreakerState::open:
      return !d.forced_open && now_ms >= open_ends_ms(d, p) ? BreakerState::half_open
                                                            : BreakerState::open;
    case BreakerState::half_open:
      return now_ms >= d.half_open_since_ms + p.timeout.count() ? BreakerState::open
                                                                : BreakerState::half_open;
  }
  return d.state;
}

// Throws std::invalid_argument naming the problem when check_policy() rejects `p`. apply()
// assumes a valid policy; backends call this first (it is a handful of comparisons).
inline void require_valid_policy(const BreakerPolicy& p) {
  if (auto problem = check_policy(p)) throw std::invalid_argument("breaker policy: " + *problem);
}

namespace detail {

// A policy factor as an integer count of ten-thousandths: all backoff and jitter arithmetic is
// on integers below 2^52, exact in C++ and in the Redis script alike.
inline std::int64_t ten_thousandths(double factor) {
  return std::llround(factor * 10'000);
}

// floor(ms * factor_e4 / 10000) without an intermediate product beyond 2^52.
inline std::int64_t scale_ms(std::int64_t ms, std::int64_t factor_e4) {
  return ms / 10'000 * factor_e4 + ms % 10'000 * factor_e4 / 10'000;
}

inline std::int64_t minstd(std::int64_t x) {
  return x * 48'271 % 2'147'483'647;
}

// base spread uniformly over [base - span, base + span], span = jitter * base, by a
// pseudo-random number drawn from the key's seed and the opening time: the same number for
// every instance that computes it.
inline std::int64_t jittered_ms(std::int64_t base, std::int64_t jitter_e4, std::uint32_t seed,
                                std::int64_t now_ms) {
  const std::int64_t span = scale_ms(base, jitter_e4);
  if (span <= 0) return base;
  constexpr std::int64_t m = 2'147'483'647;
  std::int64_t x = (seed + ((now_ms % m) + m) % m) % m;
  if (x == 0) x = 1;
  const std::int64_t high = minstd(minstd(x));
  const std::int64_t low = minstd(high) % 2'097'152;  // 2^21
  const std::int64_t r = high * 2'097'152 + low;      // below 2^52
  return base - span + r % (2 * span + 1);
}

// Enters OPEN at now. `backoff`: a re-open from HALF_OPEN (a failed trial or an expired trial
// period), which multiplies the previous opening's base duration; other openings keep it (or
// start from timeout, coming from CLOSED). The duration is then capped and jittered.
inline void enter_open(BreakerData& d, const BreakerPolicy& p, std::int64_t now_ms,
                       bool backoff = false) {
  const std::int64_t timeout = p.timeout.count();
  const std::int64_t cap = std::max(p.max_timeout.count(), timeout);
  // From CLOSED always timeout, whatever a base left in a store by an older writer says.
  std::int64_t base =
      d.state != BreakerState::closed && d.open_base_ms > 0 ? d.open_base_ms : timeout;
  if (backoff) base = scale_ms(base, ten_thousandths(p.backoff_multiplier));
  base = std::clamp(base, timeout, cap);
  d.open_base_ms = base;
  d.open_duration_ms = jittered_ms(base, ten_thousandths(p.jitter), d.jitter_seed, now_ms);
  d.state = BreakerState::open;
  d.opened_at_ms = now_ms;
  d.open_until_ms = 0;
  d.permits_taken = 0;
  d.successes = 0;
}

inline void enter_closed(BreakerData& d) {
  d.state = BreakerState::closed;
  d.failure_times.clear();
  d.failing_instances.clear();
  d.buckets.clear();
  d.open_until_ms = 0;
  d.open_base_ms = 0;
  d.open_duration_ms = 0;
  d.permits_taken = 0;
  d.successes = 0;
  d.forced_open = false;
}

inline void add_failure(BreakerData& d, const BreakerPolicy& p, std::int64_t now_ms) {
  auto& times = d.failure_times;
  // Sorted insert: concurrent callers that read their clock before taking the key's lock may
  // arrive a little out of order; equal times are kept (two failures in one millisecond count
  // twice).
  times.insert(std::upper_bound(times.begin(), times.end(), now_ms), now_ms);
  const std::int64_t cutoff = now_ms - p.sliding_window.count();
  times.erase(times.begin(), std::upper_bound(times.begin(), times.end(), cutoff));
}

// Quorum bookkeeping: records `instance`'s latest bad outcome (a failure; in rate mode also
// a slow call) when `instance` is given, forgets instances whose latest one left the window,
// and returns how many instances have one inside it.
inline std::size_t note_failing_instance(BreakerData& d, const BreakerPolicy& p,
                                         std::int64_t now_ms, const std::string_view* instance) {
  auto& seen = d.failing_instances;
  if (instance != nullptr) {
    auto it = std::find_if(seen.begin(), seen.end(),
                           [&](const auto& entry) { return entry.first == *instance; });
    if (it == seen.end())
      seen.emplace_back(std::string(*instance), now_ms);
    else
      it->second = std::max(it->second, now_ms);
  }
  const std::int64_t cutoff = now_ms - p.sliding_window.count();
  std::erase_if(seen, [&](const auto& entry) { return entry.second <= cutoff; });
  return seen.size();
}

// Count mode with a quorum: keeps the newest failure_threshold failures (an opening needs that
// many in the window, and they are the newest), which bounds the list whatever the quorum.
inline void keep_newest_failures(BreakerData& d, const BreakerPolicy& p) {
  auto& times = d.failure_times;
  if (times.size() > p.failure_threshold)
    times.erase(times.begin(), times.end() - static_cast<std::ptrdiff_t>(p.failure_threshold));
}

// Rate mode: counts one outcome at now in its bucket (start = floor(now / bucket) * bucket),
// then drops the buckets with start + sliding_window <= now, measured from the newest bucket
// when that is ahead of now (times that went back), so at most sliding_window / bucket + 1
// remain.
inline void add_outcome(BreakerData& d, const BreakerPolicy& p, std::int64_t now_ms, bool failed,
                        bool slow) {
  const std::int64_t width = p.bucket.count();
  const std::int64_t start = now_ms - ((now_ms % width) + width) % width;
  auto& buckets = d.buckets;
  auto it = std::lower_bound(buckets.begin(), buckets.end(), start,
                             [](const BreakerBucket& b, std::int64_t t) { return b.start_ms < t; });
  if (it == buckets.end() || it->start_ms != start)
    it = buckets.insert(it, BreakerBucket{start, 0, 0, 0});
  ++it->calls;
  if (failed) ++it->failures;
  if (slow) ++it->slow;
  const std::int64_t cutoff = std::max(now_ms, buckets.back().start_ms) - p.sliding_window.count();
  std::erase_if(buckets, [&](const BreakerBucket& b) { return b.start_ms <= cutoff; });
}

// Rate mode: whether `part` of `calls` reaches `rate` (in ten-thousandths), exactly.
inline bool reaches_rate(std::uint32_t part, std::uint32_t calls, double rate) {
  return std::int64_t{part} * 10'000 >= ten_thousandths(rate) * std::int64_t{calls};
}

// Rate mode: a CLOSED outcome, and the opening it may make (nullopt: none).
inline std::optional<TransitionReason> closed_outcome(BreakerData& d, const BreakerPolicy& p,
                                                      std::int64_t now_ms, bool failed,
                                                      const BreakerOpArgs& args) {
  const bool slow =
      p.slow_call_duration.count() > 0 && args.duration_ms >= p.slow_call_duration.count();
  add_outcome(d, p, now_ms, failed, slow);
  if (p.quorum.min_instances > 1) {
    const bool bad = failed || slow;
    if (note_failing_instance(d, p, now_ms, bad ? &args.instance : nullptr) <
        p.quorum.min_instances)
      return std::nullopt;
  }
  const BreakerWindow w = window_at(d, p, now_ms);
  if (w.calls < p.minimum_calls) return std::nullopt;
  if (reaches_rate(w.failures, w.calls, p.failure_rate)) return TransitionReason::failure_rate;
  if (p.slow_call_duration.count() > 0 && reaches_rate(w.slow, w.calls, p.slow_call_rate))
    return TransitionReason::slow_call_rate;
  return std::nullopt;
}

}  // namespace detail

// Applies one operation at `now_ms` to one key's data and says what it did.
//
// The rules, evaluated at the start of every operation, in this order:
//  1. reset: -> CLOSED with every failure cleared (and the forced flag dropped).
//     force_open: -> OPEN (opened_at = now), never turning HALF_OPEN until reset.
//     Each makes its own single transition, reported only when the stored state changes
//     (reset of a CLOSED breaker and force_open of an OPEN one transition nothing).
//     open_until (until = max(args.until_ms, now + args.for_ms)): nothing when until <= now.
//     Otherwise, after rule 2, CLOSED
//     or HALF_OPEN -> OPEN (opened_at = now, opened_until), and the breaker stays OPEN until
//     max(opened_at + duration, until); an OPEN one keeps its state and takes the later of
//     its until and this one. Failures are kept, as on any opening.
//  2. HALF_OPEN and now >= half_open_since + timeout, for acquire/success/failure/state:
//     -> OPEN with opened_at = now (half_open_expired); the operation then proceeds against
//     OPEN, so a lost permit cannot wedge a breaker.
//  3. CLOSED: acquire is allowed; failure adds `now`, drops every t with
//     t + sliding_window <= now, and at failure_threshold or more -> OPEN (opened_at = now);
//     with quorum.min_instances K > 1, only the newest failure_threshold failures are kept,
//     args.instance's latest failure time is noted, and opening also needs K instances whose
//     latest failure is inside the window (note_failing_instance);
//     success changes nothing (successes do not remove failures).
//     In rate mode, success and failure each count an outcome at now in the bucket starting at
//     floor(now / bucket) * bucket (failed, and slow when args.duration_ms >=
//     slow_call_duration > 0), then drop the buckets with start + sliding_window <= now (or
//     <= the newest bucket's start, should that be ahead of now); with
//     a quorum, a failed or slow outcome notes args.instance, and opening needs K instances
//     with one in the window. Then, with at least minimum_calls outcomes in the window:
//     failures / outcomes >= failure_rate -> OPEN (failure_rate), else slow / outcomes >=
//     slow_call_rate -> OPEN (slow_call_rate); rates are compared exactly in ten-thousandths.
//     OPEN: acquire is rejected while now < open_ends_ms() (opened_at + duration, or a later
//     open_until; always, when forced); the first acquire at or after it -> HALF_OPEN
//     (half_open_since = now) and takes the first
//     permit. success/failure change nothing (they belong to calls started before it opened).
//     HALF_OPEN: acquire takes a permit while fewer than half_open_max_calls were taken in
//     this period; success counts and at success_threshold -> CLOSED with failures cleared;
//     failure -> OPEN (opened_at = now).
//     state changes nothing in any state (see reported_state()).
// At most one transition happens per operation; `result.transition` is it.
//
// An opening's duration is decided when it opens. Its base is timeout from CLOSED; a re-open
// from HALF_OPEN (half_open_failure, half_open_expired) multiplies the previous base by
// backoff_multiplier; force_open and open_until keep the previous base. The base is then
// clamped to [timeout, max(max_timeout, timeout)], and the duration is base - span +
// (r mod (2 * span + 1)), span = floor(base * jitter), r drawn from jitter_seed and now
// (jittered_ms). Closing forgets the base. A trial period always lasts timeout.
//
// Precondition: check_policy(policy) accepts it (see require_valid_policy()).
inline BreakerResult apply(BreakerData& d, BreakerOp op, const BreakerPolicy& p,
                           std::int64_t now_ms, const BreakerOpArgs& args = {}) {
  BreakerResult r;
  r.now_ms = now_ms;
  auto transition = [&](BreakerState to, TransitionReason why) {
    r.transition = StateChange{d.state, to, why};
  };

  if (op == BreakerOp::reset) {
    if (d.state != BreakerState::closed) transition(BreakerState::closed, TransitionReason::reset);
    detail::enter_closed(d);
  } else if (op == BreakerOp::force_open) {
    if (d.state != BreakerState::open) {
      transition(BreakerState::open, TransitionReason::forced_open);
      detail::enter_open(d, p, now_ms);
    }
    d.forced_open = true;
  } else {
    if (d.state == BreakerState::half_open && now_ms >= d.half_open_since_ms + p.timeout.count()) {
      transition(BreakerState::open, TransitionReason::half_open_expired);
      detail::enter_open(d, p, now_ms, true);
    }
    if (op == BreakerOp::open_until) {
      const std::int64_t until =
          std::max(args.until_ms, args.for_ms > 0 ? now_ms + args.for_ms : std::int64_t{0});
      if (until > now_ms) {
        if (d.state != BreakerState::open) {
          transition(BreakerState::open, TransitionReason::opened_until);
          detail::enter_open(d, p, now_ms);
        }
        d.open_until_ms = std::max(d.open_until_ms, until);
      }
    } else {
      switch (d.state) {
        case BreakerState::closed:
          if (op == BreakerOp::acquire) {
            r.allowed = true;
          } else if (p.mode == BreakerMode::rate &&
                     (op == BreakerOp::success || op == BreakerOp::failure)) {
            if (auto why = detail::closed_outcome(d, p, now_ms, op == BreakerOp::failure, args)) {
              transition(BreakerState::open, *why);
              detail::enter_open(d, p, now_ms);
            }
          } else if (op == BreakerOp::failure) {
            detail::add_failure(d, p, now_ms);
            bool quorum = true;
            if (p.quorum.min_instances > 1) {
              detail::keep_newest_failures(d, p);
              quorum = detail::note_failing_instance(d, p, now_ms, &args.instance) >=
                       p.quorum.min_instances;
            }
            if (quorum && d.failure_times.size() >= p.failure_threshold) {
              transition(BreakerState::open, TransitionReason::failure_threshold);
              detail::enter_open(d, p, now_ms);
            }
          }
          break;
        case BreakerState::open:
          // After an expiry in rule 2, opened_at == now, so the timeout cannot have elapsed:
          // no second transition in this operation.
          if (op == BreakerOp::acquire && !d.forced_open && now_ms >= open_ends_ms(d, p)) {
            transition(BreakerState::half_open, TransitionReason::timeout_elapsed);
            d.state = BreakerState::half_open;
            d.half_open_since_ms = now_ms;
            d.open_until_ms = 0;
            d.permits_taken = 1;
            d.successes = 0;
            r.allowed = true;
          }
          break;
        case BreakerState::half_open:
          if (op == BreakerOp::acquire) {
            if (d.permits_taken < p.half_open_max_calls) {
              ++d.permits_taken;
              r.allowed = true;
            }
          } else if (op == BreakerOp::success) {
            if (++d.successes >= p.success_threshold) {
              transition(BreakerState::closed, TransitionReason::success_threshold);
              detail::enter_closed(d);
            }
          } else if (op == BreakerOp::failure) {
            transition(BreakerState::open, TransitionReason::half_open_failure);
            detail::enter_open(d, p, now_ms, true);
          }
          break;
      }
    }
  }

  r.state = reported_state(d, p, now_ms);
  const BreakerWindow w = window_at(d, p, now_ms);
  r.failures = w.failures;
  r.calls = w.calls;
  r.slow_calls = w.slow;
  r.forced_open = d.forced_open;
  if (d.state != BreakerState::closed) r.opened_at_ms = d.opened_at_ms;
  if (d.state == BreakerState::open && !d.forced_open) r.open_until_ms = open_ends_ms(d, p);
  return r;
}

CROSSCUT_SDK_END_NAMESPACE
