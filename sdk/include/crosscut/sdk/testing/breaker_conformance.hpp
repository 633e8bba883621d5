// The breaker conformance suite: the state machine rule by rule, with explicit operation times.
// Every BreakerBackend (memory, Redis, third-party) must pass it.
//
// In exactly one .cpp of a GoogleTest program (the header defines the tests):
//
//   #include "crosscut/sdk/testing/breaker_conformance.hpp"
//
//   CROSSCUT_BREAKER_CONFORMANCE(MyStore, [] {
//     return std::make_unique<MyStoreBackend>(/* ... */);   // any std::unique_ptr<BreakerBackend>
//   });
//
// and link GTest::gtest_main (or your own main). The factory runs once per test; every test uses
// keys of its own ("crosscut-conformance/<test>/<random>/<name>"), so backends whose state is
// shared between instances or runs (a Redis server) need no cleaning between tests. Times are
// passed explicitly (now_ms), starting near the current wall-clock time, so a backend that
// normally reads a server clock must honour an explicit now_ms.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <climits>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <ostream>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "crosscut/sdk/breaker.hpp"
#include "crosscut/sdk/breaker_state_machine.hpp"

CROSSCUT_SDK_BEGIN_NAMESPACE

// Readable GoogleTest failure messages for the state machine's enums (found by ADL).
inline void PrintTo(BreakerState s, std::ostream* os) {
  *os << state_name(s);
}
inline void PrintTo(TransitionReason r, std::ostream* os) {
  *os << reason_name(r);
}
inline void PrintTo(BreakerOp op, std::ostream* os) {
  *os << op_name(op);
}

CROSSCUT_SDK_END_NAMESPACE

namespace crosscut::sdk::testing {

// Makes a fresh backend for one test. Called on the test's thread, once per test.
using BreakerBackendFactory = std::function<std::unique_ptr<BreakerBackend>()>;

class BreakerConformance : public ::testing::TestWithParam<BreakerBackendFactory> {
 protected:
  // failure 3, success 2, timeout 1s, 3 half-open calls, 10s window.
  static BreakerPolicy standard_policy() {
    BreakerPolicy p;
    p.failure_threshold = 3;
    p.success_threshold = 2;
    p.timeout = std::chrono::milliseconds(1000);
    p.half_open_max_calls = 3;
    p.sliding_window = std::chrono::milliseconds(10'000);
    return p;
  }
  // The standard policy, each re-open from HALF_OPEN twice as long, at most 3.5s.
  static BreakerPolicy backoff_policy() {
    BreakerPolicy p = standard_policy();
    p.backoff_multiplier = 2;
    p.max_timeout = std::chrono::milliseconds(3500);
    return p;
  }
  // The standard policy with a quorum of two instances.
  static BreakerPolicy quorum_policy() {
    BreakerPolicy p = standard_policy();
    p.quorum.min_instances = 2;
    return p;
  }
  // The standard policy in rate mode: 1s buckets over the 10s window, at least 4 outcomes,
  // opening at half of them failed.
  static BreakerPolicy rate_policy() {
    BreakerPolicy p = standard_policy();
    p.mode = BreakerMode::rate;
    p.bucket = std::chrono::milliseconds(1000);
    p.minimum_calls = 4;
    p.failure_rate = 0.5;
    return p;
  }
  // The rate policy with slow calls: 500ms or longer is slow; three quarters slow opens.
  static BreakerPolicy slow_policy() {
    BreakerPolicy p = rate_policy();
    p.slow_call_duration = std::chrono::milliseconds(500);
    p.slow_call_rate = 0.75;
    return p;
  }
  static constexpr std::int64_t kTimeout = 1000;
  static constexpr std::int64_t kWindow = 10'000;
  static constexpr std::int64_t kBucket = 1000;

  void SetUp() override {
    backend_ = GetParam()();
    ASSERT_NE(backend_, nullptr) << "the conformance factory returned no backend";
    std::random_device seed;
    std::mt19937_64 rng(seed());
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    prefix_ = "crosscut-conformance/" + std::string(info->name()) + "/" +
              std::to_string(rng() % 1'000'000'000'000ULL) + "/";
    // Start near real time: a store that expires idle keys by TTL sees plausible times.
    t0_ = std::chrono::duration_cast<std::chrono::milliseconds>(
              std::chrono::system_clock::now().time_since_epoch())
              .count();
  }

  std::string key(std::string_view name = "k") const { return prefix_ + std::string(name); }

  // Applies `op` on `k` at t0 + at_ms.
  BreakerResult run(const std::string& k, BreakerOp op, std::int64_t at_ms,
                    const BreakerPolicy& p = standard_policy()) {
    BreakerResult r = backend_->apply(k, op, p, t0_ + at_ms);
    EXPECT_EQ(r.now_ms, t0_ + at_ms) << op_name(op) << " at +" << at_ms << "ms";
    EXPECT_FALSE(r.degraded) << op_name(op) << " at +" << at_ms << "ms";
    return r;
  }

  // open_until on `k` at t0 + at_ms: OPEN until t0 + until_at (when given) and for for_ms.
  BreakerResult open_until(const std::string& k, std::int64_t at_ms, std::int64_t until_at,
                           std::int64_t for_ms = 0) {
    BreakerOpArgs args;
    args.until_ms = until_at > 0 ? t0_ + until_at : 0;
    args.for_ms = for_ms;
    BreakerResult r =
        backend_->apply(k, BreakerOp::open_until, standard_policy(), t0_ + at_ms, args);
    EXPECT_EQ(r.now_ms, t0_ + at_ms);
    EXPECT_FALSE(r.degraded);
    return r;
  }

  // A failure on `k` at t0 + at_ms seen by `instance`.
  BreakerResult fail_from(const std::string& k, std::string_view instance, std::int64_t at_ms,
                          const BreakerPolicy& p = standard_policy()) {
    BreakerOpArgs args;
    args.instance = instance;
    BreakerResult r = backend_->apply(k, BreakerOp::failure, p, t0_ + at_ms, args);
    EXPECT_EQ(r.now_ms, t0_ + at_ms);
    EXPECT_FALSE(r.degraded);
    return r;
  }

  // A rate-mode outcome on `k` at t0 + at_ms that took duration_ms (-1: unmeasured), seen by
  // `instance`.
  BreakerResult outcome(const std::string& k, BreakerOp op, std::int64_t at_ms,
                        const BreakerPolicy& p, std::int64_t duration_ms = -1,
                        std::string_view instance = {}) {
    BreakerOpArgs args;
    args.duration_ms = duration_ms;
    args.instance = instance;
    BreakerResult r = backend_->apply(k, op, p, t0_ + at_ms, args);
    EXPECT_EQ(r.now_ms, t0_ + at_ms);
    EXPECT_FALSE(r.degraded);
    return r;
  }
  // The offset from t0 of the first bucket start at or after it: rate tests place outcomes
  // relative to bucket boundaries, which are multiples of the bucket in epoch time.
  std::int64_t bucket_aligned() const { return (kBucket - t0_ % kBucket) % kBucket; }

  // Opens `k` with failure_threshold failures at at_ms - n + 1 ... at_ms (policy's threshold).
  void open_at(const std::string& k, std::int64_t at_ms,
               const BreakerPolicy& p = standard_policy()) {
    for (std::uint32_t i = p.failure_threshold; i > 0; --i) {
      auto r = run(k, BreakerOp::failure, at_ms - static_cast<std::int64_t>(i) + 1, p);
      if (i == 1)
        expect_transition(r, BreakerState::closed, BreakerState::open,
                          TransitionReason::failure_threshold);
      else
        expect_no_transition(r);
    }
  }

  // Opens `k` at +2, then the first acquire at +2+timeout makes it HALF_OPEN with one permit.
  // Returns the half-open start (+1002).
  std::int64_t half_open(const std::string& k, const BreakerPolicy& p = standard_policy()) {
    open_at(k, 2, p);
    const std::int64_t at = 2 + p.timeout.count();
    auto r = run(k, BreakerOp::acquire, at, p);
    EXPECT_TRUE(r.allowed);
    expect_transition(r, BreakerState::open, BreakerState::half_open,
                      TransitionReason::timeout_elapsed);
    return at;
  }

  static void expect_no_transition(const BreakerResult& r) {
    EXPECT_FALSE(r.transition.has_value())
        << "unexpected transition " << state_name(r.transition->from) << " -> "
        << state_name(r.transition->to) << " (" << reason_name(r.transition->reason) << ")";
  }
  static void expect_transition(const BreakerResult& r, BreakerState from, BreakerState to,
                                TransitionReason reason) {
    ASSERT_TRUE(r.transition.has_value())
        << "expected " << state_name(from) << " -> " << state_name(to) << ", got no transition";
    EXPECT_EQ(r.transition->from, from);
    EXPECT_EQ(r.transition->to, to);
    EXPECT_EQ(r.transition->reason, reason);
  }

  BreakerBackend& backend() { return *backend_; }
  std::int64_t t0() const { return t0_; }

 private:
  std::unique_ptr<BreakerBackend> backend_;
  std::string prefix_;
  std::int64_t t0_ = 0;
};

// --- CLOSED ---------------------------------------------------------------------------------

TEST_P(BreakerConformance, FreshKeyIsClosedAndAllowsAcquire) {
  const auto k = key();
  auto s = run(k, BreakerOp::state, 0);
  EXPECT_EQ(s.state, BreakerState::closed);
  EXPECT_EQ(s.failures, 0u);
  expect_no_transition(s);
  auto r = run(k, BreakerOp::acquire, 0);
  EXPECT_TRUE(r.allowed);
  EXPECT_EQ(r.state, BreakerState::closed);
  EXPECT_FALSE(r.forced_open);
  expect_no_transition(r);
  auto ok = run(k, BreakerOp::success, 1);
  EXPECT_EQ(ok.state, BreakerState::closed);
  expect_no_transition(ok);
}

TEST_P(BreakerConformance, OpensWhenFailuresReachThreshold) {
  const auto k = key();
  auto f1 = run(k, BreakerOp::failure, 0);
  EXPECT_EQ(f1.state, BreakerState::closed);
  EXPECT_EQ(f1.failures, 1u);
  expect_no_transition(f1);
  auto f2 = run(k, BreakerOp::failure, 1);
  EXPECT_EQ(f2.state, BreakerState::closed);
  EXPECT_EQ(f2.failures, 2u);
  expect_no_transition(f2);
  EXPECT_TRUE(run(k, BreakerOp::acquire, 2).allowed);
  auto f3 = run(k, BreakerOp::failure, 3);
  EXPECT_EQ(f3.state, BreakerState::open);
  EXPECT_EQ(f3.failures, 3u);
  ASSERT_TRUE(f3.opened_at_ms.has_value());
  EXPECT_EQ(*f3.opened_at_ms, t0() + 3);
  expect_transition(f3, BreakerState::closed, BreakerState::open,
                    TransitionReason::failure_threshold);
  auto a = run(k, BreakerOp::acquire, 4);
  EXPECT_FALSE(a.allowed);
  EXPECT_EQ(a.state, BreakerState::open);
}

TEST_P(BreakerConformance, SuccessesDoNotRemoveFailures) {
  const auto k = key();
  run(k, BreakerOp::failure, 0);
  for (int i = 1; i <= 5; ++i) {
    auto s = run(k, BreakerOp::success, i);
    EXPECT_EQ(s.state, BreakerState::closed);
    EXPECT_EQ(s.failures, 1u);
    expect_no_transition(s);
  }
  EXPECT_EQ(run(k, BreakerOp::failure, 6).failures, 2u);
  run(k, BreakerOp::success, 7);
  auto f = run(k, BreakerOp::failure, 8);
  expect_transition(f, BreakerState::closed, BreakerState::open,
                    TransitionReason::failure_threshold);
}

TEST_P(BreakerConformance, WindowDropsAFailureExactlyWhenTPlusWindowReachesNow) {
  const auto k = key();
  run(k, BreakerOp::failure, 0);
  run(k, BreakerOp::failure, 5000);
  // 0 + window <= 10000: the first failure is out; 5000 and 10000 remain.
  auto f = run(k, BreakerOp::failure, kWindow);
  EXPECT_EQ(f.state, BreakerState::closed);
  EXPECT_EQ(f.failures, 2u);
  expect_no_transition(f);
  // 5000 + window > 14999: still inside, so this is the third failure in the window.
  auto g = run(k, BreakerOp::failure, 5000 + kWindow - 1);
  EXPECT_EQ(g.failures, 3u);
  expect_transition(g, BreakerState::closed, BreakerState::open,
                    TransitionReason::failure_threshold);
}

TEST_P(BreakerConformance, FailureOneMillisecondInsideTheWindowStillCounts) {
  const auto k = key();
  run(k, BreakerOp::failure, 0);
  run(k, BreakerOp::failure, 1);
  auto f = run(k, BreakerOp::failure, kWindow - 1);
  EXPECT_EQ(f.failures, 3u);
  expect_transition(f, BreakerState::closed, BreakerState::open,
                    TransitionReason::failure_threshold);
}

TEST_P(BreakerConformance, StateReportsFailuresStillInTheWindow) {
  const auto k = key();
  run(k, BreakerOp::failure, 0);
  run(k, BreakerOp::failure, 1);
  EXPECT_EQ(run(k, BreakerOp::state, kWindow - 1).failures, 2u);
  EXPECT_EQ(run(k, BreakerOp::state, kWindow).failures, 1u);
  EXPECT_EQ(run(k, BreakerOp::state, kWindow + 1).failures, 0u);
  // A failure long after the others starts a fresh count.
  auto f = run(k, BreakerOp::failure, kWindow + 2);
  EXPECT_EQ(f.failures, 1u);
  EXPECT_EQ(f.state, BreakerState::closed);
}

TEST_P(BreakerConformance, TwoFailuresInTheSameMillisecondCountTwice) {
  const auto k = key();
  EXPECT_EQ(run(k, BreakerOp::failure, 7).failures, 1u);
  EXPECT_EQ(run(k, BreakerOp::failure, 7).failures, 2u);
  auto f = run(k, BreakerOp::failure, 7);
  EXPECT_EQ(f.failures, 3u);
  expect_transition(f, BreakerState::closed, BreakerState::open,
                    TransitionReason::failure_threshold);
}

// --- OPEN -----------------------------------------------------------------------------------

TEST_P(BreakerConformance, OpenRejectsUntilTheTimeoutThenFirstAcquireGoesHalfOpen) {
  const auto k = key();
  open_at(k, 2);
  for (std::int64_t at : {std::int64_t{3}, std::int64_t{500}, 2 + kTimeout - 1}) {
    auto r = run(k, BreakerOp::acquire, at);
    EXPECT_FALSE(r.allowed) << "at +" << at;
    EXPECT_EQ(r.state, BreakerState::open);
    ASSERT_TRUE(r.opened_at_ms.has_value());
    EXPECT_EQ(*r.opened_at_ms, t0() + 2);
    expect_no_transition(r);
  }
  auto r = run(k, BreakerOp::acquire, 2 + kTimeout);
  EXPECT_TRUE(r.allowed);
  EXPECT_EQ(r.state, BreakerState::half_open);
  expect_transition(r, BreakerState::open, BreakerState::half_open,
                    TransitionReason::timeout_elapsed);
}

TEST_P(BreakerConformance, FirstAcquireAfterTimeoutTakesTheFirstPermit) {
  BreakerPolicy p = standard_policy();
  p.success_threshold = 1;
  p.half_open_max_calls = 1;
  const auto k = key();
  half_open(k, p);
  auto second = run(k, BreakerOp::acquire, 1003, p);
  EXPECT_FALSE(second.allowed);
  EXPECT_EQ(second.state, BreakerState::half_open);
  expect_no_transition(second);
}

TEST_P(BreakerConformance, SuccessAndFailureWhileOpenAreIgnored) {
  const auto k = key();
  open_at(k, 2);
  for (auto [op, at] : {std::pair{BreakerOp::failure, std::int64_t{10}},
                        std::pair{BreakerOp::success, std::int64_t{20}},
                        std::pair{BreakerOp::success, std::int64_t{21}}}) {
    auto r = run(k, op, at);
    EXPECT_EQ(r.state, BreakerState::open);
    ASSERT_TRUE(r.opened_at_ms.has_value());
    EXPECT_EQ(*r.opened_at_ms, t0() + 2) << op_name(op) << " must not reopen";
    expect_no_transition(r);
  }
  // After the timeout but before any acquire: still ignored (the breaker is still OPEN).
  for (auto [op, at] : {std::pair{BreakerOp::failure, std::int64_t{1500}},
                        std::pair{BreakerOp::success, std::int64_t{1600}},
                        std::pair{BreakerOp::success, std::int64_t{1601}}}) {
    auto r = run(k, op, at);
    EXPECT_EQ(r.state, BreakerState::half_open) << "reported as a state query would";
    expect_no_transition(r);
  }
  // The timeout still counts from the first opening, and the ignored successes did not count
  // toward closing: one success in the new period is not enough (threshold 2).
  auto a = run(k, BreakerOp::acquire, 1700);
  EXPECT_TRUE(a.allowed);
  expect_transition(a, BreakerState::open, BreakerState::half_open,
                    TransitionReason::timeout_elapsed);
  auto s1 = run(k, BreakerOp::success, 1701);
  EXPECT_EQ(s1.state, BreakerState::half_open);
  expect_no_transition(s1);
  auto s2 = run(k, BreakerOp::success, 1702);
  expect_transition(s2, BreakerState::half_open, BreakerState::closed,
                    TransitionReason::success_threshold);
}

TEST_P(BreakerConformance, StateQueryReportsHalfOpenAfterTimeoutWithoutChangingAnything) {
  const auto k = key();
  open_at(k, 2);
  EXPECT_EQ(run(k, BreakerOp::state, 2 + kTimeout - 1).state, BreakerState::open);
  for (std::int64_t at : {2 + kTimeout, std::int64_t{3000}, std::int64_t{6000}}) {
    auto s = run(k, BreakerOp::state, at);
    EXPECT_EQ(s.state, BreakerState::half_open) << "at +" << at;
    expect_no_transition(s);
  }
  // Still OPEN underneath: the acquire makes the transition, and the period starts now.
  auto a = run(k, BreakerOp::acquire, 6000);
  EXPECT_TRUE(a.allowed);
  expect_transition(a, BreakerState::open, BreakerState::half_open,
                    TransitionReason::timeout_elapsed);
  auto before = run(k, BreakerOp::state, 6000 + kTimeout - 1);
  EXPECT_EQ(before.state, BreakerState::half_open);
  expect_no_transition(before);
}

// --- HALF_OPEN ------------------------------------------------------------------------------

TEST_P(BreakerConformance, HalfOpenGrantsAtMostMaxCallsPermits) {
  const auto k = key();
  const auto h = half_open(k);  // took permit 1 of 3
  for (int i = 1; i <= 2; ++i) {
    auto r = run(k, BreakerOp::acquire, h + i);
    EXPECT_TRUE(r.allowed) << "permit " << i + 1;
    EXPECT_EQ(r.state, BreakerState::half_open);
    expect_no_transition(r);
  }
  for (int i = 3; i <= 5; ++i) {
    auto r = run(k, BreakerOp::acquire, h + i);
    EXPECT_FALSE(r.allowed) << "acquire " << i + 1 << " exceeds half_open_max_calls";
    EXPECT_EQ(r.state, BreakerState::half_open);
    expect_no_transition(r);
  }
}

TEST_P(BreakerConformance, SuccessThresholdClosesAndClearsFailures) {
  const auto k = key();
  const auto h = half_open(k);
  auto s1 = run(k, BreakerOp::success, h + 1);
  EXPECT_EQ(s1.state, BreakerState::half_open);
  expect_no_transition(s1);
  auto s2 = run(k, BreakerOp::success, h + 2);
  EXPECT_EQ(s2.state, BreakerState::closed);
  EXPECT_EQ(s2.failures, 0u);
  expect_transition(s2, BreakerState::half_open, BreakerState::closed,
                    TransitionReason::success_threshold);
  // The three failures that opened it (at 0..2, still inside the 10 s window) are gone.
  auto f = run(k, BreakerOp::failure, h + 3);
  EXPECT_EQ(f.failures, 1u);
  EXPECT_EQ(f.state, BreakerState::closed);
  expect_no_transition(f);
  EXPECT_TRUE(run(k, BreakerOp::acquire, h + 4).allowed);
}

TEST_P(BreakerConformance, FailureInHalfOpenReopensFromNow) {
  const auto k = key();
  const auto h = half_open(k);
  run(k, BreakerOp::success, h + 1);
  auto f = run(k, BreakerOp::failure, h + 500);
  EXPECT_EQ(f.state, BreakerState::open);
  ASSERT_TRUE(f.opened_at_ms.has_value());
  EXPECT_EQ(*f.opened_at_ms, t0() + h + 500);
  expect_transition(f, BreakerState::half_open, BreakerState::open,
                    TransitionReason::half_open_failure);
  EXPECT_FALSE(run(k, BreakerOp::acquire, h + 500 + kTimeout - 1).allowed);
  auto a = run(k, BreakerOp::acquire, h + 500 + kTimeout);
  EXPECT_TRUE(a.allowed);
  expect_transition(a, BreakerState::open, BreakerState::half_open,
                    TransitionReason::timeout_elapsed);
  // The earlier success belonged to the previous period: one more is not enough.
  auto s = run(k, BreakerOp::success, h + 500 + kTimeout + 1);
  EXPECT_EQ(s.state, BreakerState::half_open);
  expect_no_transition(s);
}

TEST_P(BreakerConformance, HalfOpenPeriodExpiresAtTheStartOfEachOperationKind) {
  // success_threshold 1: were the success evaluated before the expiry, it would close.
  BreakerPolicy p = standard_policy();
  p.success_threshold = 1;
  for (BreakerOp op :
       {BreakerOp::acquire, BreakerOp::success, BreakerOp::failure, BreakerOp::state}) {
    SCOPED_TRACE(std::string("op: ") + std::string(op_name(op)));
    const auto k = key(op_name(op));
    const auto h = half_open(k, p);
    auto before = run(k, BreakerOp::state, h + kTimeout - 1, p);
    EXPECT_EQ(before.state, BreakerState::half_open);
    expect_no_transition(before);

    const std::int64_t expiry = h + kTimeout;
    auto r = run(k, op, expiry, p);
    expect_transition(r, BreakerState::half_open, BreakerState::open,
                      TransitionReason::half_open_expired);
    EXPECT_EQ(r.state, BreakerState::open) << "the operation proceeds against OPEN";
    EXPECT_FALSE(r.allowed);
    ASSERT_TRUE(r.opened_at_ms.has_value());
    EXPECT_EQ(*r.opened_at_ms, t0() + expiry);

    // Reopened at the expiry time: rejected until a full timeout from then.
    auto early = run(k, BreakerOp::acquire, expiry + kTimeout - 1, p);
    EXPECT_FALSE(early.allowed);
    expect_no_transition(early);
    auto again = run(k, BreakerOp::acquire, expiry + kTimeout, p);
    EXPECT_TRUE(again.allowed);
    expect_transition(again, BreakerState::open, BreakerState::half_open,
                      TransitionReason::timeout_elapsed);
  }
}

TEST_P(BreakerConformance, HalfOpenExpiryWhilePermitsAreExhaustedUnwedgesTheBreaker) {
  const auto k = key();
  const auto h = half_open(k);
  run(k, BreakerOp::acquire, h + 1);
  run(k, BreakerOp::acquire, h + 2);
  EXPECT_FALSE(run(k, BreakerOp::acquire, h + 3).allowed);  // outcomes never reported
  auto r = run(k, BreakerOp::acquire, h + kTimeout);
  EXPECT_FALSE(r.allowed);
  expect_transition(r, BreakerState::half_open, BreakerState::open,
                    TransitionReason::half_open_expired);
  auto a = run(k, BreakerOp::acquire, h + 2 * kTimeout);
  EXPECT_TRUE(a.allowed);
  EXPECT_EQ(a.state, BreakerState::half_open);
}

// --- operator overrides ---------------------------------------------------------------------

TEST_P(BreakerConformance, ForceOpenNeverTurnsHalfOpenUntilReset) {
  const auto k = key();
  auto f = run(k, BreakerOp::force_open, 0);
  EXPECT_EQ(f.state, BreakerState::open);
  EXPECT_TRUE(f.forced_open);
  ASSERT_TRUE(f.opened_at_ms.has_value());
  EXPECT_EQ(*f.opened_at_ms, t0());
  expect_transition(f, BreakerState::closed, BreakerState::open, TransitionReason::forced_open);

  for (std::int64_t at : {kTimeout, 5 * kTimeout, 100 * kTimeout}) {
    auto s = run(k, BreakerOp::state, at);
    EXPECT_EQ(s.state, BreakerState::open) << "at +" << at;
    EXPECT_TRUE(s.forced_open);
    auto a = run(k, BreakerOp::acquire, at);
    EXPECT_FALSE(a.allowed) << "at +" << at;
    expect_no_transition(a);
    expect_no_transition(run(k, BreakerOp::success, at));
    expect_no_transition(run(k, BreakerOp::failure, at));
  }
  auto again = run(k, BreakerOp::force_open, 100 * kTimeout + 1);
  EXPECT_TRUE(again.forced_open);
  expect_no_transition(again);

  auto r = run(k, BreakerOp::reset, 100 * kTimeout + 2);
  EXPECT_EQ(r.state, BreakerState::closed);
  EXPECT_FALSE(r.forced_open);
  EXPECT_EQ(r.failures, 0u);
  expect_transition(r, BreakerState::open, BreakerState::closed, TransitionReason::reset);
  EXPECT_TRUE(run(k, BreakerOp::acquire, 100 * kTimeout + 3).allowed);
}

TEST_P(BreakerConformance, ForceOpenFromHalfOpenAndFromOpen) {
  const auto from_half_open = key("half_open");
  const auto h = half_open(from_half_open);
  auto f = run(from_half_open, BreakerOp::force_open, h + 1);
  expect_transition(f, BreakerState::half_open, BreakerState::open, TransitionReason::forced_open);
  EXPECT_TRUE(f.forced_open);
  EXPECT_FALSE(run(from_half_open, BreakerOp::acquire, h + 1 + 10 * kTimeout).allowed);

  // Already OPEN: no state change, so no transition, but it now stays open.
  const auto from_open = key("open");
  open_at(from_open, 2);
  auto g = run(from_open, BreakerOp::force_open, 3);
  expect_no_transition(g);
  EXPECT_TRUE(g.forced_open);
  EXPECT_EQ(g.state, BreakerState::open);
  auto s = run(from_open, BreakerOp::state, 2 + kTimeout);
  EXPECT_EQ(s.state, BreakerState::open);
  EXPECT_FALSE(run(from_open, BreakerOp::acquire, 2 + kTimeout).allowed);
}

TEST_P(BreakerConformance, ResetClearsFailuresFromEveryState) {
  const auto closed = key("closed");
  run(closed, BreakerOp::failure, 0);
  run(closed, BreakerOp::failure, 1);
  auto r = run(closed, BreakerOp::reset, 2);
  EXPECT_EQ(r.state, BreakerState::closed);
  EXPECT_EQ(r.failures, 0u);
  expect_no_transition(r);  // CLOSED -> CLOSED is no transition
  auto f = run(closed, BreakerOp::failure, 3);
  EXPECT_EQ(f.failures, 1u);
  EXPECT_EQ(f.state, BreakerState::closed);

  const auto open = key("open");
  open_at(open, 2);
  auto ro = run(open, BreakerOp::reset, 3);
  expect_transition(ro, BreakerState::open, BreakerState::closed, TransitionReason::reset);
  EXPECT_EQ(ro.failures, 0u);
  EXPECT_TRUE(run(open, BreakerOp::acquire, 4).allowed);
  EXPECT_EQ(run(open, BreakerOp::failure, 5).failures, 1u);

  const auto half = key("half_open");
  const auto h = half_open(half);
  run(half, BreakerOp::success, h + 1);
  auto rh = run(half, BreakerOp::reset, h + 2);
  expect_transition(rh, BreakerState::half_open, BreakerState::closed, TransitionReason::reset);
  EXPECT_EQ(rh.state, BreakerState::closed);
  // The failures that opened it (0..2, still inside the window) are gone: two more do not open.
  run(half, BreakerOp::failure, h + 3);
  auto f2 = run(half, BreakerOp::failure, h + 4);
  EXPECT_EQ(f2.state, BreakerState::closed);
  expect_no_transition(f2);
}

TEST_P(BreakerConformance, ResetOfAnUnknownKeyIsAClosedBreaker) {
  auto r = run(key("never-used"), BreakerOp::reset, 0);
  EXPECT_EQ(r.state, BreakerState::closed);
  EXPECT_EQ(r.failures, 0u);
  expect_no_transition(r);
}

// --- keys, transitions, policies ------------------------------------------------------------

TEST_P(BreakerConformance, KeysAreIndependent) {
  const auto a = key("a");
  const auto b = key("b");
  open_at(a, 2);
  run(b, BreakerOp::failure, 3);
  auto rb = run(b, BreakerOp::acquire, 4);
  EXPECT_TRUE(rb.allowed);
  EXPECT_EQ(rb.state, BreakerState::closed);
  EXPECT_EQ(rb.failures, 1u);
  EXPECT_FALSE(run(a, BreakerOp::acquire, 4).allowed);
  run(b, BreakerOp::force_open, 5);
  run(a, BreakerOp::reset, 6);
  EXPECT_TRUE(run(a, BreakerOp::acquire, 7).allowed);
  EXPECT_FALSE(run(b, BreakerOp::acquire, 7).allowed);
}

TEST_P(BreakerConformance, ATraceMakesExactlyTheExpectedTransitionsInOrder) {
  struct Step {
    BreakerOp op;
    std::int64_t at;
    bool transition;
    BreakerState from = BreakerState::closed;
    BreakerState to = BreakerState::closed;
    TransitionReason reason = TransitionReason::reset;
  };
  using S = BreakerState;
  using R = TransitionReason;
  const std::vector<Step> trace{
      {BreakerOp::acquire, 0, false},
      {BreakerOp::failure, 5, false},
      {BreakerOp::failure, 9, false},
      {BreakerOp::success, 10, false},
      {BreakerOp::failure, 12, true, S::closed, S::open, R::failure_threshold},
      {BreakerOp::acquire, 13, false},
      {BreakerOp::failure, 14, false},
      {BreakerOp::state, 1012, false},
      {BreakerOp::acquire, 1013, true, S::open, S::half_open, R::timeout_elapsed},
      {BreakerOp::failure, 1014, true, S::half_open, S::open, R::half_open_failure},
      {BreakerOp::acquire, 2014, true, S::open, S::half_open, R::timeout_elapsed},
      {BreakerOp::acquire, 2015, false},
      {BreakerOp::state, 3014, true, S::half_open, S::open, R::half_open_expired},
      {BreakerOp::acquire, 4014, true, S::open, S::half_open, R::timeout_elapsed},
      {BreakerOp::success, 4015, false},
      {BreakerOp::success, 4016, true, S::half_open, S::closed, R::success_threshold},
      {BreakerOp::force_open, 4017, true, S::closed, S::open, R::forced_open},
      {BreakerOp::acquire, 9000, false},
      {BreakerOp::reset, 9001, true, S::open, S::closed, R::reset},
      {BreakerOp::acquire, 9002, false},
  };
  const auto k = key();
  std::size_t expected = 0;
  std::size_t observed = 0;
  for (const auto& step : trace) {
    SCOPED_TRACE(std::string(op_name(step.op)) + " at +" + std::to_string(step.at));
    auto r = run(k, step.op, step.at);
    observed += r.transition.has_value() ? 1 : 0;
    if (step.transition) {
      ++expected;
      expect_transition(r, step.from, step.to, step.reason);
      EXPECT_EQ(r.state, step.to);
    } else {
      expect_no_transition(r);
    }
  }
  EXPECT_EQ(observed, expected);
  EXPECT_TRUE(run(k, BreakerOp::acquire, 9003).allowed);
}

TEST_P(BreakerConformance, RejectsPoliciesThatCheckPolicyRejects) {
  struct Bad {
    const char* names;  // the option the message must name
    BreakerPolicy policy;
  };
  std::vector<Bad> bad;
  auto with = [](auto change) {
    BreakerPolicy p = standard_policy();
    change(p);
    return p;
  };
  bad.push_back({"failure_threshold", with([](BreakerPolicy& p) { p.failure_threshold = 0; })});
  bad.push_back({"success_threshold", with([](BreakerPolicy& p) { p.success_threshold = 0; })});
  bad.push_back({"half_open_max_calls", with([](BreakerPolicy& p) { p.half_open_max_calls = 0; })});
  bad.push_back(
      {"timeout", with([](BreakerPolicy& p) { p.timeout = std::chrono::milliseconds(0); })});
  bad.push_back({"sliding_window",
                 with([](BreakerPolicy& p) { p.sliding_window = std::chrono::milliseconds(-5); })});
  bad.push_back({"success_threshold", with([](BreakerPolicy& p) {
                   p.success_threshold = 4;
                   p.half_open_max_calls = 3;
                 })});
  const auto k = key();
  for (const auto& b : bad) {
    SCOPED_TRACE(b.names);
    ASSERT_TRUE(check_policy(b.policy).has_value());
    for (BreakerOp op : {BreakerOp::acquire, BreakerOp::failure, BreakerOp::state}) {
      try {
        backend().apply(k, op, b.policy, t0());
        ADD_FAILURE() << op_name(op) << " accepted an invalid policy";
      } catch (const std::exception& e) {
        EXPECT_NE(std::string(e.what()).find(b.names), std::string::npos)
            << "message should name " << b.names << ": " << e.what();
      }
    }
  }
  // The rejected calls left nothing behind.
  auto s = run(k, BreakerOp::state, 1);
  EXPECT_EQ(s.state, BreakerState::closed);
  EXPECT_EQ(s.failures, 0u);
}

TEST_P(BreakerConformance, SmallestValidPolicyWorks) {
  BreakerPolicy p;
  p.failure_threshold = 1;
  p.success_threshold = 1;
  p.half_open_max_calls = 1;
  p.timeout = std::chrono::milliseconds(1);
  p.sliding_window = std::chrono::milliseconds(1);
  ASSERT_FALSE(check_policy(p).has_value());
  const auto k = key();
  expect_transition(run(k, BreakerOp::failure, 0, p), BreakerState::closed, BreakerState::open,
                    TransitionReason::failure_threshold);
  EXPECT_FALSE(run(k, BreakerOp::acquire, 0, p).allowed);
  auto a = run(k, BreakerOp::acquire, 1, p);
  EXPECT_TRUE(a.allowed);
  expect_transition(a, BreakerState::open, BreakerState::half_open,
                    TransitionReason::timeout_elapsed);
  EXPECT_FALSE(run(k, BreakerOp::acquire, 1, p).allowed);
  expect_transition(run(k, BreakerOp::success, 1, p), BreakerState::half_open, BreakerState::closed,
                    TransitionReason::success_threshold);
}

TEST_P(BreakerConformance, PolicyIsReadPerOperation) {
  // Overrides reach a backend as a different policy on the same key: thresholds apply as given.
  BreakerPolicy strict = standard_policy();
  strict.failure_threshold = 2;
  const auto k = key();
  run(k, BreakerOp::failure, 0);
  expect_transition(run(k, BreakerOp::failure, 1, strict), BreakerState::closed, BreakerState::open,
                    TransitionReason::failure_threshold);
}

TEST_P(BreakerConformance, OpenUntilFromClosedRejectsUntilThenTurnsHalfOpen) {
  const auto k = key();
  auto r = open_until(k, 100, 5000);
  expect_transition(r, BreakerState::closed, BreakerState::open, TransitionReason::opened_until);
  EXPECT_EQ(r.state, BreakerState::open);
  ASSERT_TRUE(r.opened_at_ms.has_value());
  EXPECT_EQ(*r.opened_at_ms, t0() + 100);
  ASSERT_TRUE(r.open_until_ms.has_value());
  EXPECT_EQ(*r.open_until_ms, t0() + 5000);
  auto past_timeout = run(k, BreakerOp::acquire, 100 + kTimeout);
  EXPECT_FALSE(past_timeout.allowed) << "the open_until time, later than the timeout, holds";
  expect_no_transition(past_timeout);
  EXPECT_EQ(run(k, BreakerOp::state, 4999).state, BreakerState::open);
  EXPECT_EQ(run(k, BreakerOp::state, 5000).state, BreakerState::half_open);
  auto after = run(k, BreakerOp::acquire, 5000);
  EXPECT_TRUE(after.allowed);
  expect_transition(after, BreakerState::open, BreakerState::half_open,
                    TransitionReason::timeout_elapsed);
}

TEST_P(BreakerConformance, OpenUntilKeepsTheLaterTime) {
  const auto k = key();
  open_until(k, 0, 3000);
  auto earlier = open_until(k, 10, 2000);
  expect_no_transition(earlier);
  EXPECT_EQ(*earlier.open_until_ms, t0() + 3000) << "an earlier time does not shorten it";
  auto later = open_until(k, 20, 4000);
  expect_no_transition(later);
  EXPECT_EQ(*later.open_until_ms, t0() + 4000);
  EXPECT_FALSE(run(k, BreakerOp::acquire, 3500).allowed);
  EXPECT_TRUE(run(k, BreakerOp::acquire, 4000).allowed);
}

TEST_P(BreakerConformance, OpenUntilShorterThanTheTimeoutKeepsTheTimeout) {
  const auto k = key();
  auto r = open_until(k, 0, 200);
  expect_transition(r, BreakerState::closed, BreakerState::open, TransitionReason::opened_until);
  EXPECT_EQ(*r.open_until_ms, t0() + kTimeout);
  EXPECT_FALSE(run(k, BreakerOp::acquire, 500).allowed);
  EXPECT_TRUE(run(k, BreakerOp::acquire, kTimeout).allowed);
}

TEST_P(BreakerConformance, OpenUntilANowOrPastTimeChangesNothing) {
  const auto k = key();
  auto r = open_until(k, 100, 100);
  expect_no_transition(r);
  EXPECT_EQ(r.state, BreakerState::closed);
  expect_no_transition(open_until(k, 200, 0, 0));
  EXPECT_TRUE(run(k, BreakerOp::acquire, 201).allowed);
}

TEST_P(BreakerConformance, OpenForIsCountedFromTheOperationsTime) {
  const auto k = key();
  auto r = open_until(k, 100, 0, 3000);
  expect_transition(r, BreakerState::closed, BreakerState::open, TransitionReason::opened_until);
  EXPECT_EQ(*r.open_until_ms, t0() + 3100);
  EXPECT_FALSE(run(k, BreakerOp::acquire, 3099).allowed);
  EXPECT_TRUE(run(k, BreakerOp::acquire, 3100).allowed);
}

TEST_P(BreakerConformance, OpenUntilFromHalfOpenReopensUntilThen) {
  const auto k = key();
  const auto h = half_open(k);
  auto r = open_until(k, h + 1, h + 5000);
  expect_transition(r, BreakerState::half_open, BreakerState::open, TransitionReason::opened_until);
  EXPECT_FALSE(run(k, BreakerOp::acquire, h + 1 + kTimeout).allowed);
  auto again = run(k, BreakerOp::acquire, h + 5000);
  EXPECT_TRUE(again.allowed);
  expect_transition(again, BreakerState::open, BreakerState::half_open,
                    TransitionReason::timeout_elapsed);
}

TEST_P(BreakerConformance, ResetClearsAnOpenUntilTime) {
  const auto k = key();
  open_until(k, 0, 50 * kTimeout);
  run(k, BreakerOp::reset, 10);
  open_at(k, 22);
  EXPECT_FALSE(run(k, BreakerOp::acquire, 21 + kTimeout).allowed);
  EXPECT_TRUE(run(k, BreakerOp::acquire, 22 + kTimeout).allowed)
      << "the reset dropped the old open_until time";
}

TEST_P(BreakerConformance, OpenUntilOnAnExpiredTrialPeriodReopensByTheExpiry) {
  const auto k = key();
  const auto h = half_open(k);
  auto r = open_until(k, h + kTimeout, h + 5 * kTimeout);
  expect_transition(r, BreakerState::half_open, BreakerState::open,
                    TransitionReason::half_open_expired);
  EXPECT_EQ(*r.open_until_ms, t0() + h + 5 * kTimeout);
}

TEST_P(BreakerConformance, OpenUntilPastTheTimeoutHoldsAnOpenBreakerAgain) {
  const auto k = key();
  open_at(k, 2);
  EXPECT_EQ(run(k, BreakerOp::state, 2 + kTimeout).state, BreakerState::half_open);
  auto r = open_until(k, 2 + kTimeout, 3 * kTimeout);
  expect_no_transition(r);
  EXPECT_EQ(r.state, BreakerState::open);
  EXPECT_FALSE(run(k, BreakerOp::acquire, 3 * kTimeout - 1).allowed);
}

TEST_P(BreakerConformance, OpenUntilArgumentsOutOfRangeAreRefusedBeforeTheBackend) {
  const auto k = key();
  BreakerOpArgs forever;
  forever.for_ms = INT64_MAX;
  EXPECT_THROW(backend().apply(k, BreakerOp::open_until, standard_policy(), t0(), forever),
               std::invalid_argument);
  BreakerOpArgs negative;
  negative.until_ms = -1;
  EXPECT_THROW(backend().apply(k, BreakerOp::open_until, standard_policy(), t0(), negative),
               std::invalid_argument);
  EXPECT_EQ(run(k, BreakerOp::state, 0).state, BreakerState::closed) << "nothing was applied";
}

TEST_P(BreakerConformance, AForcedBreakerStaysForcedPastAnOpenUntilTime) {
  const auto k = key();
  run(k, BreakerOp::force_open, 0);
  auto r = open_until(k, 10, 2000);
  expect_no_transition(r);
  EXPECT_TRUE(r.forced_open);
  EXPECT_FALSE(r.open_until_ms.has_value()) << "a forced breaker has no end";
  EXPECT_FALSE(run(k, BreakerOp::acquire, 100 * kTimeout).allowed);
}

// --- Open duration: backoff and jitter -------------------------------------------------------

TEST_P(BreakerConformance, EachFailedTrialMultipliesTheOpenDurationUpToMaxTimeout) {
  const auto p = backoff_policy();
  const auto k = key();
  open_at(k, 2, p);
  EXPECT_EQ(*run(k, BreakerOp::state, 3, p).open_until_ms, t0() + 1002) << "the first: timeout";
  std::int64_t at = 1002;
  for (const std::int64_t expected : {2000, 3500, 3500}) {
    EXPECT_TRUE(run(k, BreakerOp::acquire, at, p).allowed) << "the trial at +" << at;
    auto f = run(k, BreakerOp::failure, at + 1, p);
    expect_transition(f, BreakerState::half_open, BreakerState::open,
                      TransitionReason::half_open_failure);
    ASSERT_TRUE(f.open_until_ms.has_value());
    EXPECT_EQ(*f.open_until_ms, t0() + at + 1 + expected) << "re-opened at +" << at + 1;
    EXPECT_FALSE(run(k, BreakerOp::acquire, at + expected, p).allowed);
    at = at + 1 + expected;
  }
}

TEST_P(BreakerConformance, AnExpiredTrialPeriodBacksOffToo) {
  const auto p = backoff_policy();
  const auto k = key();
  const auto h = half_open(k, p);
  auto r = run(k, BreakerOp::state, h + kTimeout, p);
  expect_transition(r, BreakerState::half_open, BreakerState::open,
                    TransitionReason::half_open_expired);
  EXPECT_EQ(*r.open_until_ms, t0() + h + kTimeout + 2000);
}

TEST_P(BreakerConformance, ClosingStartsTheOpenDurationFromTimeoutAgain) {
  const auto p = backoff_policy();
  const auto k = key();
  const auto h = half_open(k, p);
  run(k, BreakerOp::failure, h + 1, p);  // open for 2s
  EXPECT_TRUE(run(k, BreakerOp::acquire, h + 2001, p).allowed);
  run(k, BreakerOp::success, h + 2002, p);
  auto closed = run(k, BreakerOp::success, h + 2003, p);
  expect_transition(closed, BreakerState::half_open, BreakerState::closed,
                    TransitionReason::success_threshold);
  open_at(k, h + 2010, p);
  EXPECT_EQ(*run(k, BreakerOp::state, h + 2011, p).open_until_ms, t0() + h + 2010 + kTimeout);
}

TEST_P(BreakerConformance, OpenUntilAndForceOpenFromHalfOpenKeepTheBackoffLevel) {
  const auto p = backoff_policy();
  const auto k = key();
  const auto h = half_open(k, p);
  run(k, BreakerOp::failure, h + 1, p);  // open for 2s
  const std::int64_t trial = h + 2001;
  EXPECT_TRUE(run(k, BreakerOp::acquire, trial, p).allowed);
  BreakerOpArgs brief;
  brief.for_ms = 10;
  auto r = backend().apply(k, BreakerOp::open_until, p, t0() + trial + 1, brief);
  expect_transition(r, BreakerState::half_open, BreakerState::open, TransitionReason::opened_until);
  EXPECT_EQ(*r.open_until_ms, t0() + trial + 1 + 2000) << "the level's duration, not timeout";
  EXPECT_TRUE(run(k, BreakerOp::acquire, trial + 2001, p).allowed);
  auto f = run(k, BreakerOp::failure, trial + 2002, p);
  EXPECT_EQ(*f.open_until_ms, t0() + trial + 2002 + 3500) << "the next re-open grows from it";
}

TEST_P(BreakerConformance, JitterSpreadsOpeningsExactlyAsTheReferenceStateMachine) {
  BreakerPolicy p = backoff_policy();
  p.jitter = 0.5;
  std::vector<std::int64_t> durations;
  std::vector<std::int64_t> bases;
  for (int i = 0; i < 16; ++i) {
    const auto k = key("jitter-" + std::to_string(i));
    BreakerData reference;
    reference.jitter_seed = jitter_seed(k);
    // The same operations on the backend and on the reference, at the same times.
    const std::vector<std::pair<BreakerOp, std::int64_t>> ops = {
        {BreakerOp::failure, 0},    {BreakerOp::failure, 1},    {BreakerOp::failure, 2},
        {BreakerOp::acquire, 1600}, {BreakerOp::failure, 1601}, {BreakerOp::acquire, 4800},
        {BreakerOp::failure, 4801}};
    for (const auto& [op, at] : ops) {
      const BreakerResult want = apply(reference, op, p, t0() + at);
      const BreakerResult got = run(k, op, at, p);
      EXPECT_EQ(got.allowed, want.allowed) << k << " " << op_name(op) << " at +" << at;
      EXPECT_EQ(got.state, want.state) << k << " " << op_name(op) << " at +" << at;
      EXPECT_EQ(got.open_until_ms, want.open_until_ms) << k << " " << op_name(op) << " at +" << at;
      if (op == BreakerOp::failure && want.transition && want.open_until_ms) {
        durations.push_back(*want.open_until_ms - (t0() + at));
        bases.push_back(reference.open_base_ms);
      }
    }
  }
  ASSERT_EQ(durations.size(), 48u) << "every key opened and re-opened twice";
  for (std::size_t i = 0; i < durations.size(); ++i) {
    const std::int64_t base = std::vector<std::int64_t>{1000, 2000, 3500}[i % 3];
    EXPECT_EQ(bases[i], base) << "the opening, then two re-opens (the second capped)";
    EXPECT_GE(durations[i], base - base / 2);
    EXPECT_LE(durations[i], base + base / 2);
  }
  std::sort(durations.begin(), durations.end());
  EXPECT_GT(std::unique(durations.begin(), durations.end()) - durations.begin(), 8)
      << "keys that open together spread apart";
}

TEST_P(BreakerConformance, ABackoffPolicyThatCannotGrowIsRefused) {
  BreakerPolicy p = standard_policy();
  p.backoff_multiplier = 2;  // and max_timeout left at 0
  EXPECT_THROW(backend().apply(key(), BreakerOp::failure, p, t0()), std::invalid_argument);
  p.max_timeout = std::chrono::milliseconds(500);  // below timeout
  EXPECT_THROW(backend().apply(key(), BreakerOp::failure, p, t0()), std::invalid_argument);
  p = standard_policy();
  p.jitter = 0.6;
  EXPECT_THROW(backend().apply(key(), BreakerOp::failure, p, t0()), std::invalid_argument);
}

// --- Quorum ------------------------------------------------------------------------------------

TEST_P(BreakerConformance, AQuorumNeedsFailuresFromEnoughInstances) {
  const auto p = quorum_policy();
  const auto k = key();
  for (std::int64_t at = 0; at < 6; ++at) {
    auto r = fail_from(k, "collector-a", at, p);
    expect_no_transition(r);
    EXPECT_EQ(r.state, BreakerState::closed) << "one instance alone never opens it";
    EXPECT_EQ(r.failures, std::min<std::uint32_t>(static_cast<std::uint32_t>(at) + 1, 3))
        << "the newest failure_threshold failures are kept";
  }
  auto r = fail_from(k, "collector-b", 6, p);
  expect_transition(r, BreakerState::closed, BreakerState::open,
                    TransitionReason::failure_threshold);
}

TEST_P(BreakerConformance, AnInstanceWhoseFailuresLeftTheWindowLeavesTheQuorum) {
  const auto p = quorum_policy();
  const auto k = key();
  fail_from(k, "collector-b", 0, p);
  for (std::int64_t at = kWindow; at < kWindow + 3; ++at)
    expect_no_transition(fail_from(k, "collector-a", at, p));
  auto r = fail_from(k, "collector-b", kWindow + 3, p);
  expect_transition(r, BreakerState::closed, BreakerState::open,
                    TransitionReason::failure_threshold);
}

TEST_P(BreakerConformance, ClosingForgetsTheFailingInstances) {
  const auto p = quorum_policy();
  const auto k = key();
  fail_from(k, "collector-a", 0, p);
  fail_from(k, "collector-b", 1, p);
  expect_transition(fail_from(k, "collector-a", 2, p), BreakerState::closed, BreakerState::open,
                    TransitionReason::failure_threshold);
  EXPECT_TRUE(run(k, BreakerOp::acquire, 2 + kTimeout, p).allowed);
  run(k, BreakerOp::success, 3 + kTimeout, p);
  EXPECT_EQ(run(k, BreakerOp::success, 4 + kTimeout, p).state, BreakerState::closed);
  for (std::int64_t at = 10 + kTimeout; at < 15 + kTimeout; ++at)
    expect_no_transition(fail_from(k, "collector-a", at, p));
}

TEST_P(BreakerConformance, AQuorumOfOneCountsFailuresFromAnyInstance) {
  const auto k = key();
  fail_from(k, "collector-a", 0);
  fail_from(k, "collector-b", 1);
  expect_transition(fail_from(k, "collector-c", 2), BreakerState::closed, BreakerState::open,
                    TransitionReason::failure_threshold);
}

TEST_P(BreakerConformance, AnInstanceIdLongerThanTheLimitIsRefused) {
  BreakerOpArgs args;
  const std::string long_id(kMaxBreakerInstanceBytes + 1, 'x');
  args.instance = long_id;
  EXPECT_THROW(backend().apply(key(), BreakerOp::failure, standard_policy(), t0(), args),
               std::invalid_argument);
  EXPECT_EQ(run(key(), BreakerOp::state, 0).failures, 0u) << "nothing was recorded";
}

// --- Rate mode -----------------------------------------------------------------------------

TEST_P(BreakerConformance, RateModeOpensAtTheFailureRateOnceMinimumCallsAreIn) {
  const auto p = rate_policy();
  const auto k = key();
  const std::int64_t a = bucket_aligned();
  expect_no_transition(outcome(k, BreakerOp::failure, a, p));
  expect_no_transition(outcome(k, BreakerOp::failure, a + 1, p));
  auto r = outcome(k, BreakerOp::failure, a + 2, p);
  expect_no_transition(r);  // three of three failed, but fewer than minimum_calls
  EXPECT_EQ(r.calls, 3u);
  EXPECT_EQ(r.failures, 3u);
  r = outcome(k, BreakerOp::success, a + 3, p);
  expect_transition(r, BreakerState::closed, BreakerState::open, TransitionReason::failure_rate);
  EXPECT_EQ(r.calls, 4u);
  EXPECT_EQ(r.failures, 3u);
}

TEST_P(BreakerConformance, RateModeStaysClosedBelowTheRate) {
  const auto p = rate_policy();
  const auto k = key();
  const std::int64_t a = bucket_aligned();
  for (std::int64_t i = 0; i < 3; ++i)
    expect_no_transition(outcome(k, BreakerOp::success, a + i, p));
  auto r = outcome(k, BreakerOp::failure, a + 3, p);
  expect_no_transition(r);  // 1 of 4
  EXPECT_EQ(r.state, BreakerState::closed);
  expect_no_transition(outcome(k, BreakerOp::failure, a + 4, p));  // 2 of 5
  r = outcome(k, BreakerOp::failure, a + 5, p);                    // 3 of 6: the rate exactly
  expect_transition(r, BreakerState::closed, BreakerState::open, TransitionReason::failure_rate);
  EXPECT_EQ(r.calls, 6u);
  EXPECT_EQ(r.failures, 3u);
}

TEST_P(BreakerConformance, RateModeBucketsLeaveTheWindowWholeAtStartPlusWindow) {
  const auto p = rate_policy();
  const auto k = key();
  const std::int64_t a = bucket_aligned();
  outcome(k, BreakerOp::failure, a + kBucket - 1, p);  // the bucket starting at a
  outcome(k, BreakerOp::failure, a + kBucket, p);      // the next one
  auto s = run(k, BreakerOp::state, a + kWindow - 1, p);
  EXPECT_EQ(s.failures, 2u);
  EXPECT_EQ(s.calls, 2u);
  s = run(k, BreakerOp::state, a + kWindow, p);
  EXPECT_EQ(s.failures, 1u) << "the first bucket left the window, its last millisecond too";
  EXPECT_EQ(s.calls, 1u);
  s = run(k, BreakerOp::state, a + kWindow + kBucket - 1, p);
  EXPECT_EQ(s.calls, 1u);
  s = run(k, BreakerOp::state, a + kWindow + kBucket, p);
  EXPECT_EQ(s.calls, 0u);
  EXPECT_EQ(s.failures, 0u);
}

TEST_P(BreakerConformance, RateModeOutcomesThatLeftTheWindowNoLongerCount) {
  const auto p = rate_policy();
  const auto k = key();
  const std::int64_t a = bucket_aligned();
  for (std::int64_t i = 0; i < 3; ++i) outcome(k, BreakerOp::failure, a + i, p);
  // Ten seconds on, the three failures are gone: three successes and a failure are 1 of 4.
  for (std::int64_t i = 0; i < 3; ++i)
    expect_no_transition(outcome(k, BreakerOp::success, a + kWindow + i, p));
  auto r = outcome(k, BreakerOp::failure, a + kWindow + 3, p);
  expect_no_transition(r);
  EXPECT_EQ(r.calls, 4u);
  EXPECT_EQ(r.failures, 1u);
}

TEST_P(BreakerConformance, RateModeKeepsAWindowOfBucketsWhenTimesGoBack) {
  const auto p = rate_policy();
  const auto k = key();
  const std::int64_t a = bucket_aligned();
  // Times that go back (a clock stepped back): buckets a window behind the newest are dropped
  // at once, so memory stays bounded by the window.
  for (std::int64_t at : {20'000, 15'000, 9'000, 10'000, 10'001, 11'000})
    expect_no_transition(outcome(k, BreakerOp::success, a + at, p));
  auto s = run(k, BreakerOp::state, a + 9'500, p);
  EXPECT_EQ(s.calls, 3u) << "the buckets at +20s, +15s and +11s";
}

TEST_P(BreakerConformance, SlowCallsOpenAtTheSlowCallRate) {
  const auto p = slow_policy();
  const auto k = key();
  const std::int64_t a = bucket_aligned();
  expect_no_transition(outcome(k, BreakerOp::success, a, p, 500));  // exactly the limit: slow
  expect_no_transition(outcome(k, BreakerOp::success, a + 1, p, 499));
  expect_no_transition(outcome(k, BreakerOp::success, a + 2, p, 9000));
  auto r = outcome(k, BreakerOp::success, a + 3, p, 501);  // 3 of 4 slow: the rate exactly
  expect_transition(r, BreakerState::closed, BreakerState::open, TransitionReason::slow_call_rate);
  EXPECT_EQ(r.calls, 4u);
  EXPECT_EQ(r.slow_calls, 3u);
  EXPECT_EQ(r.failures, 0u);
}

TEST_P(BreakerConformance, AFailureRateIsCheckedBeforeTheSlowCallRate) {
  const auto p = slow_policy();
  const auto k = key();
  const std::int64_t a = bucket_aligned();
  outcome(k, BreakerOp::failure, a, p, 600);
  outcome(k, BreakerOp::failure, a + 1, p, 600);
  outcome(k, BreakerOp::success, a + 2, p, 600);
  auto r = outcome(k, BreakerOp::success, a + 3, p, 600);
  expect_transition(r, BreakerState::closed, BreakerState::open, TransitionReason::failure_rate);
  EXPECT_EQ(r.slow_calls, 4u);
  EXPECT_EQ(r.failures, 2u);
}

TEST_P(BreakerConformance, UnmeasuredCallsAreNeverSlow) {
  const auto p = slow_policy();
  const auto k = key();
  const std::int64_t a = bucket_aligned();
  for (std::int64_t i = 0; i < 6; ++i)
    expect_no_transition(outcome(k, BreakerOp::success, a + i, p));
  EXPECT_EQ(run(k, BreakerOp::state, a + 6, p).slow_calls, 0u);
}

TEST_P(BreakerConformance, RateModeTrialsBehaveAsInCountModeAndClosingClearsTheBuckets) {
  const auto p = rate_policy();
  const auto k = key();
  const std::int64_t a = bucket_aligned();
  for (std::int64_t i = 0; i < 3; ++i) outcome(k, BreakerOp::failure, a + i, p);
  expect_transition(outcome(k, BreakerOp::failure, a + 3, p), BreakerState::closed,
                    BreakerState::open, TransitionReason::failure_rate);
  // While OPEN, outcomes are ignored; the trial is count mode's.
  expect_no_transition(outcome(k, BreakerOp::failure, a + 4, p));
  EXPECT_FALSE(run(k, BreakerOp::acquire, a + 2 + kTimeout, p).allowed);
  auto t = run(k, BreakerOp::acquire, a + 3 + kTimeout, p);
  EXPECT_TRUE(t.allowed);
  expect_transition(t, BreakerState::open, BreakerState::half_open,
                    TransitionReason::timeout_elapsed);
  expect_no_transition(outcome(k, BreakerOp::success, a + 4 + kTimeout, p));
  expect_transition(outcome(k, BreakerOp::success, a + 5 + kTimeout, p), BreakerState::half_open,
                    BreakerState::closed, TransitionReason::success_threshold);
  auto s = run(k, BreakerOp::state, a + 6 + kTimeout, p);
  EXPECT_EQ(s.calls, 0u);
  EXPECT_EQ(s.failures, 0u);
  // A fresh window: three failures are again fewer than minimum_calls.
  for (std::int64_t i = 0; i < 3; ++i)
    expect_no_transition(outcome(k, BreakerOp::failure, a + 7 + kTimeout + i, p));
}

TEST_P(BreakerConformance, RateModeFailureInHalfOpenReopens) {
  const auto p = rate_policy();
  const auto k = key();
  const std::int64_t a = bucket_aligned();
  for (std::int64_t i = 0; i < 4; ++i) outcome(k, BreakerOp::failure, a + i, p);
  EXPECT_TRUE(run(k, BreakerOp::acquire, a + 3 + kTimeout, p).allowed);
  expect_transition(outcome(k, BreakerOp::failure, a + 4 + kTimeout, p), BreakerState::half_open,
                    BreakerState::open, TransitionReason::half_open_failure);
}

TEST_P(BreakerConformance, ARateQuorumNeedsFailedOrSlowOutcomesFromEnoughInstances) {
  BreakerPolicy p = slow_policy();
  p.quorum.min_instances = 2;
  const auto k = key();
  const std::int64_t a = bucket_aligned();
  for (std::int64_t i = 0; i < 6; ++i)
    expect_no_transition(outcome(k, BreakerOp::failure, a + i, p, -1, "collector-a"));
  // A fast success from b does not make it a failing instance.
  expect_no_transition(outcome(k, BreakerOp::success, a + 6, p, 10, "collector-b"));
  // A slow one does: 6 of 8 failed, from two instances.
  expect_transition(outcome(k, BreakerOp::success, a + 7, p, 800, "collector-b"),
                    BreakerState::closed, BreakerState::open, TransitionReason::failure_rate);
}

TEST_P(BreakerConformance, CountModeIgnoresCallDurations) {
  const auto k = key();
  for (std::int64_t i = 0; i < 5; ++i)
    expect_no_transition(outcome(k, BreakerOp::success, i, standard_policy(), 1'000'000));
  auto s = run(k, BreakerOp::state, 5);
  EXPECT_EQ(s.calls, 0u);
  EXPECT_EQ(s.failures, 0u);
}

TEST_P(BreakerConformance, RatePoliciesThatCheckPolicyRejectsAreRefused) {
  auto with = [](auto change) {
    BreakerPolicy p = rate_policy();
    change(p);
    return p;
  };
  const BreakerPolicy bad[] = {
      with([](BreakerPolicy& p) { p.failure_rate = 0; }),
      with([](BreakerPolicy& p) { p.failure_rate = 1.5; }),
      with([](BreakerPolicy& p) { p.failure_rate = std::nan(""); }),
      with([](BreakerPolicy& p) { p.slow_call_rate = 0; }),
      with([](BreakerPolicy& p) { p.minimum_calls = 0; }),
      with([](BreakerPolicy& p) { p.bucket = std::chrono::milliseconds(0); }),
      with([](BreakerPolicy& p) { p.bucket = p.sliding_window + std::chrono::milliseconds(1); }),
      with([](BreakerPolicy& p) {  // more than 10,000 buckets
        p.bucket = std::chrono::milliseconds(1);
        p.sliding_window = std::chrono::milliseconds(10'001);
      }),
      with([](BreakerPolicy& p) {  // 10,000 whole buckets and a part of one
        p.bucket = std::chrono::milliseconds(1000);
        p.sliding_window = std::chrono::milliseconds(10'000'001);
      }),
      with([](BreakerPolicy& p) { p.failure_rate = 0.00005; }),  // rounds to 0.0001, but below
      with([](BreakerPolicy& p) { p.slow_call_duration = std::chrono::milliseconds(-1); }),
      with([](BreakerPolicy& p) {
        p.mode = BreakerMode::count;
        p.slow_call_duration = std::chrono::milliseconds(100);
      }),
  };
  const auto k = key();
  for (const auto& p : bad) {
    ASSERT_TRUE(check_policy(p).has_value());
    EXPECT_THROW(backend().apply(k, BreakerOp::failure, p, t0()), std::invalid_argument);
  }
  BreakerOpArgs too_long;
  too_long.duration_ms = kMaxBreakerTimeMs + 1;
  EXPECT_THROW(backend().apply(k, BreakerOp::success, rate_policy(), t0(), too_long),
               std::invalid_argument);
  EXPECT_EQ(run(k, BreakerOp::state, 0, rate_policy()).calls, 0u) << "nothing was recorded";
}
}  // namespace crosscut::sdk::testing

// Instantiates the conformance suite for one backend. `prefix` names the instantiation (tests
// run as prefix/BreakerConformance.Name/prefix); the remaining argument is the factory, any
// expression convertible to crosscut::sdk::testing::BreakerBackendFactory (commas are fine, e.g. a
// lambda's capture list). Use once per backend, at namespace scope, followed by a semicolon.
#define CROSSCUT_BREAKER_CONFORMANCE(prefix, ...)                                        \
  namespace crosscut_breaker_conformance_##prefix {                                      \
    using ::crosscut::sdk::testing::BreakerConformance;                                  \
    INSTANTIATE_TEST_SUITE_P(                                                            \
        prefix, BreakerConformance,                                                      \
        ::testing::Values(::crosscut::sdk::testing::BreakerBackendFactory(__VA_ARGS__)), \
        [](const auto&) { return std::string(#prefix); });                               \
  }                                                                                      \
  static_assert(true, "require a semicolon after the macro")
