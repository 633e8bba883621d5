// The reference state machine on its own: what the conformance suite cannot see through a
// backend (the stored data, clock readings that arrive slightly out of order).
#include <gtest/gtest.h>

#include <algorithm>

#include "crosscut/sdk/breaker_state_machine.hpp"

namespace {

using crosscut::sdk::BreakerData;
using crosscut::sdk::BreakerOp;
using crosscut::sdk::BreakerPolicy;
using crosscut::sdk::BreakerState;

BreakerPolicy policy() {
  BreakerPolicy p;
  p.failure_threshold = 3;
  p.sliding_window = std::chrono::milliseconds(60);
  return p;
}

TEST(BreakerStateMachine, FailuresArrivingOutOfOrderStaySortedAndPruneCorrectly) {
  BreakerData d;
  const auto p = policy();
  crosscut::sdk::apply(d, BreakerOp::failure, p, 100);
  auto r = crosscut::sdk::apply(d, BreakerOp::failure, p, 50);  // a caller's earlier reading
  EXPECT_EQ(r.failures, 2u);
  EXPECT_TRUE(std::is_sorted(d.failure_times.begin(), d.failure_times.end()));
  EXPECT_EQ(crosscut::sdk::failures_in_window(d, p, 110), 1u);  // 50 + 60 <= 110
  // The next failure prunes 50 and counts 100 and 111: still below the threshold.
  r = crosscut::sdk::apply(d, BreakerOp::failure, p, 111);
  EXPECT_EQ(r.failures, 2u);
  EXPECT_EQ(r.state, BreakerState::closed);
  EXPECT_EQ(d.failure_times.size(), 2u);
}

TEST(BreakerStateMachine, StateQueryLeavesTheDataUntouched) {
  BreakerData d;
  const auto p = policy();
  for (int t = 0; t < 3; ++t) crosscut::sdk::apply(d, BreakerOp::failure, p, t);
  ASSERT_EQ(d.state, BreakerState::open);
  const BreakerData before = d;
  auto r = crosscut::sdk::apply(d, BreakerOp::state, p, 2 + p.timeout.count());
  EXPECT_EQ(r.state, BreakerState::half_open);
  EXPECT_EQ(d.state, before.state);
  EXPECT_EQ(d.opened_at_ms, before.opened_at_ms);
  EXPECT_EQ(d.failure_times, before.failure_times);
  EXPECT_EQ(d.permits_taken, before.permits_taken);
}

TEST(BreakerStateMachine, FailureStorageIsBoundedByTheThreshold) {
  BreakerData d;
  const auto p = policy();
  for (int t = 0; t < 1000; ++t) crosscut::sdk::apply(d, BreakerOp::failure, p, 0);
  EXPECT_EQ(d.failure_times.size(), p.failure_threshold) << "OPEN ignores further failures";
}

TEST(BreakerStateMachine, RequireValidPolicyNamesTheProblem) {
  BreakerPolicy p;
  p.half_open_max_calls = 1;
  try {
    crosscut::sdk::require_valid_policy(p);
    ADD_FAILURE() << "accepted success_threshold > half_open_max_calls";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("half_open_max_calls"), std::string::npos) << e.what();
  }
  EXPECT_NO_THROW(crosscut::sdk::require_valid_policy(BreakerPolicy{}));
}

}  // namespace
