// The breaker registry's limits: resource keys longer than the limit are refused (answered as
// a fresh CLOSED breaker, never stored, counted, logged at most once a minute), and answers a
// backend gives from a fallback are counted.
#include <gtest/gtest.h>

#include <atomic>
#include <string>

#include "breaker/breaker_registry.hpp"
#include "crosscut/runtime.hpp"
#include "crosscut/sdk/breaker_state_machine.hpp"
#include "support/test_host.hpp"

namespace {

using crosscut::BreakerRegistry;
using crosscut::kMaxResourceKeyBytes;
using crosscut::sdk::BreakerOp;
using crosscut::sdk::BreakerPolicy;
using crosscut::sdk::BreakerResult;
using crosscut::sdk::BreakerState;

// Runs the reference state machine on one key, and counts every call; answers `degraded`
// when told to.
class CountingBackend final : public crosscut::sdk::BreakerBackend {
 public:
  std::atomic<int> calls{0};
  std::string last_key;
  bool degraded = false;
  crosscut::sdk::BreakerData data;

 protected:
  BreakerResult apply_op(std::string_view key, BreakerOp op, const BreakerPolicy& policy,
                         std::optional<std::int64_t> now_ms,
                         const crosscut::sdk::BreakerOpArgs& args) override {
    calls.fetch_add(1);
    last_key = std::string(key);
    BreakerResult r = crosscut::sdk::apply(data, op, policy, now_ms.value_or(0), args);
    r.degraded = degraded;
    return r;
  }
};

struct Fixture {
  crosscut::testing::ManualClock clock;
  crosscut::testing::CapturingLogger log{"breaker"};
  CountingBackend backend;
  BreakerRegistry registry{backend, BreakerPolicy{}, {}, log, clock, nullptr};

  std::size_t lines(const std::string& text) const {
    std::size_t n = 0;
    for (const auto& r : log.records()) n += r.message.find(text) != std::string::npos;
    return n;
  }
};

TEST(BreakerRegistry, KeysLongerThanTheLimitNeverReachTheBackend) {
  Fixture f;
  const std::string longest(kMaxResourceKeyBytes, 'k');
  const std::string too_long(kMaxResourceKeyBytes + 1, 'k');
  EXPECT_TRUE(f.registry.breaker(longest).allow());
  EXPECT_EQ(f.backend.calls.load(), 1);
  EXPECT_EQ(f.backend.last_key, longest);

  auto b = f.registry.breaker(too_long);
  EXPECT_TRUE(b.allow());
  for (int i = 0; i < 10; ++i) b.record_failure();
  b.force_open();
  const BreakerResult r = b.apply(BreakerOp::failure);
  EXPECT_EQ(r.state, BreakerState::closed) << "refused keys are never opened";
  EXPECT_EQ(r.failures, 0u);
  EXPECT_FALSE(r.transition.has_value());
  EXPECT_TRUE(r.degraded);
  EXPECT_EQ(b.state(), BreakerState::closed);
  EXPECT_EQ(f.backend.calls.load(), 1) << "nothing reached the backend";
  EXPECT_EQ(f.registry.stats().keys_too_long, 14u);
}

TEST(BreakerRegistry, RefusalsAreLoggedAtMostOnceAMinute) {
  Fixture f;
  const std::string too_long(9 * 1024, 'r');
  const std::string line = "breaker key refused";
  for (int i = 0; i < 100; ++i) f.registry.breaker(too_long + std::to_string(i)).record_failure();
  EXPECT_EQ(f.lines(line), 1u);
  f.clock.advance(std::chrono::seconds(59));
  f.registry.breaker(too_long).record_failure();
  EXPECT_EQ(f.lines(line), 1u);
  f.clock.advance(std::chrono::seconds(2));
  f.registry.breaker(too_long).record_failure();
  EXPECT_EQ(f.lines(line), 2u);
  EXPECT_EQ(f.registry.stats().keys_too_long, 102u);
}

TEST(BreakerRegistry, AnInvalidPolicyStillThrowsForARefusedKey) {
  Fixture f;
  BreakerPolicy bad;
  bad.success_threshold = 5;
  bad.half_open_max_calls = 1;
  EXPECT_THROW(f.registry.apply(std::string(300, 'x'), bad, BreakerOp::failure, 1),
               std::invalid_argument);
}

TEST(BreakerRegistry, DegradedAnswersAreCounted) {
  Fixture f;
  f.registry.breaker("a/b/c").record_failure();
  EXPECT_EQ(f.registry.stats().degraded, 0u);
  f.backend.degraded = true;
  f.registry.breaker("a/b/c").record_failure();
  f.registry.breaker("a/b/c").allow();
  EXPECT_EQ(f.registry.stats().degraded, 2u);
  EXPECT_EQ(f.registry.stats().keys_too_long, 0u);
}

// Through a runtime and the memory backend: the user's case, breakers named by input with
// 9 KiB names, leaves nothing behind.
TEST(BreakerRegistry, LongResourceNamesLeaveNothingInTheMemoryBackend) {
  crosscut::RuntimeOptions o;
  o.plugin_paths = {CROSSCUT_TEST_PLUGIN_DIR};
  o.quiet = true;
  auto rt = crosscut::Runtime::from_string("plugins: {load: [memory_breaker]}\n", "b.yaml", o);
  const std::string name(9 * 1024, 'n');
  for (int i = 0; i < 1000; ++i) rt->breaker(std::to_string(i) + name).record_failure();
  rt->breaker("upbit/korea/ticker").record_failure();
  EXPECT_EQ(rt->breaker_keys(), std::vector<std::string>{"upbit/korea/ticker"});
}

}  // namespace

TEST(BreakerRegistry, FailuresCarryTheRegistrysInstanceUnlessTheCallerNamesOne) {
  crosscut::testing::ManualClock clock;
  crosscut::testing::CapturingLogger log{"breaker"};
  CountingBackend backend;  // one shared store, two processes' registries
  BreakerPolicy quorum;
  quorum.failure_threshold = 2;
  quorum.quorum.min_instances = 2;
  BreakerRegistry here{backend, quorum, {}, log, clock, nullptr, kMaxResourceKeyBytes, "here"};
  BreakerRegistry there{backend, quorum, {}, log, clock, nullptr, kMaxResourceKeyBytes, "there"};
  here.breaker("k").apply(BreakerOp::failure, 1);
  EXPECT_EQ(here.breaker("k").apply(BreakerOp::failure, 2).state, BreakerState::closed)
      << "two failures, one instance";
  crosscut::sdk::BreakerOpArgs named;
  named.instance = "here";
  EXPECT_EQ(there.breaker("k").apply(BreakerOp::failure, 3, named).state, BreakerState::closed)
      << "the caller's own id wins over the registry's";
  EXPECT_EQ(there.breaker("k").apply(BreakerOp::failure, 4).state, BreakerState::open);
  ASSERT_EQ(backend.data.failing_instances.size(), 2u);
  EXPECT_EQ(backend.data.failing_instances[0].first, "here");
  EXPECT_EQ(backend.data.failing_instances[1].first, "there");
}

TEST(BreakerRegistry, RateModeSuccessesCarryTheInstanceToo) {
  // A slow success is a bad outcome for a rate-mode quorum: it must name its instance.
  crosscut::testing::ManualClock clock;
  crosscut::testing::CapturingLogger log{"breaker"};
  CountingBackend backend;
  BreakerPolicy rate;
  rate.mode = crosscut::sdk::BreakerMode::rate;
  rate.minimum_calls = 2;
  rate.slow_call_duration = std::chrono::milliseconds(100);
  rate.quorum.min_instances = 2;
  BreakerRegistry here{backend, rate, {}, log, clock, nullptr, kMaxResourceKeyBytes, "here"};
  BreakerRegistry there{backend, rate, {}, log, clock, nullptr, kMaxResourceKeyBytes, "there"};
  crosscut::sdk::BreakerOpArgs slow;
  slow.duration_ms = 250;
  EXPECT_EQ(here.breaker("k").apply(BreakerOp::success, 1, slow).state, BreakerState::closed);
  auto r = there.breaker("k").apply(BreakerOp::success, 2, slow);
  EXPECT_EQ(r.state, BreakerState::open);
  ASSERT_TRUE(r.transition.has_value());
  EXPECT_EQ(r.transition->reason, crosscut::sdk::TransitionReason::slow_call_rate);
}
