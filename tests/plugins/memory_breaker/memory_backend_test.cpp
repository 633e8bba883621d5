// The memory backend beyond the conformance suite: concurrency on one key and on many keys,
// operations without an explicit time, keys(), and the plugin's descriptor.
#include <gtest/gtest.h>

#include <atomic>
#include <barrier>
#include <latch>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "config/option_validator.hpp"
#include "crosscut/sdk/sdk.hpp"
#include "memory_breaker/memory_breaker_backend.hpp"
#include "support/test_host.hpp"

extern "C" const crosscut_plugin_info* crosscut_plugin_entry();

namespace {

using crosscut::memory_breaker::MemoryBreakerBackend;
using crosscut::sdk::BreakerOp;
using crosscut::sdk::BreakerPolicy;
using crosscut::sdk::BreakerState;
using crosscut::sdk::TransitionReason;

BreakerPolicy policy(std::uint32_t failures, std::uint32_t successes, std::uint32_t max_calls) {
  BreakerPolicy p;
  p.failure_threshold = failures;
  p.success_threshold = successes;
  p.half_open_max_calls = max_calls;
  p.timeout = std::chrono::milliseconds(1000);
  p.sliding_window = std::chrono::milliseconds(60'000);
  return p;
}

unsigned thread_count() {
  return std::max(8u, 2 * std::thread::hardware_concurrency());
}

// Runs body(i) for i in [0, threads) on as many threads, released together; returns when all
// have finished.
template <class Body>
void race(unsigned threads, Body body) {
  std::latch start(threads);
  std::vector<std::jthread> workers;
  for (unsigned i = 0; i < threads; ++i)
    workers.emplace_back([&, i] {
      start.arrive_and_wait();
      body(i);
    });
}

TEST(MemoryBreakerConcurrency, HalfOpenGrantsExactlyMaxCallsPermitsToRacingThreads) {
  crosscut::testing::ManualClock clock;
  MemoryBreakerBackend backend(clock);
  const auto p = policy(1, 2, 5);
  const unsigned threads = thread_count();
  constexpr int kRounds = 50;
  for (int round = 0; round < kRounds; ++round) {
    const std::int64_t t = 1'000'000 + round * 10'000;
    backend.apply("hot", BreakerOp::reset, p, t);
    ASSERT_TRUE(backend.apply("hot", BreakerOp::failure, p, t).transition.has_value());

    std::atomic<unsigned> granted{0};
    std::atomic<unsigned> to_half_open{0};
    std::atomic<unsigned> other_transitions{0};
    race(threads, [&](unsigned) {
      for (int attempt = 0; attempt < 3; ++attempt) {
        auto r = backend.apply("hot", BreakerOp::acquire, p, t + 1000 + attempt);
        if (r.allowed) granted.fetch_add(1);
        if (r.transition) {
          if (r.transition->to == BreakerState::half_open)
            to_half_open.fetch_add(1);
          else
            other_transitions.fetch_add(1);
        }
      }
    });
    EXPECT_EQ(granted.load(), p.half_open_max_calls) << "round " << round;
    EXPECT_EQ(to_half_open.load(), 1u) << "round " << round;
    EXPECT_EQ(other_transitions.load(), 0u) << "round " << round;
  }
}

TEST(MemoryBreakerConcurrency, ManyThreadsFailingAtOnceOpenTheBreakerExactlyOnce) {
  crosscut::testing::ManualClock clock;
  MemoryBreakerBackend backend(clock);
  const auto p = policy(5, 1, 1);
  const unsigned threads = thread_count();
  constexpr int kRounds = 50;
  for (int round = 0; round < kRounds; ++round) {
    const std::int64_t t = 1'000'000 + round * 100'000;
    backend.apply("hot", BreakerOp::reset, p, t);
    std::atomic<unsigned> opened{0};
    std::atomic<unsigned> other_transitions{0};
    race(threads, [&](unsigned) {
      for (int n = 0; n < 10; ++n) {
        auto r = backend.apply("hot", BreakerOp::failure, p, t);
        if (!r.transition) continue;
        if (r.transition->from == BreakerState::closed && r.transition->to == BreakerState::open &&
            r.transition->reason == TransitionReason::failure_threshold)
          opened.fetch_add(1);
        else
          other_transitions.fetch_add(1);
      }
    });
    EXPECT_EQ(opened.load(), 1u) << "round " << round;
    EXPECT_EQ(other_transitions.load(), 0u) << "round " << round;
    auto s = backend.apply("hot", BreakerOp::state, p, t);
    EXPECT_EQ(s.state, BreakerState::open);
    EXPECT_EQ(s.failures, p.failure_threshold) << "failures after opening are ignored";
  }
}

TEST(MemoryBreakerConcurrency, ManyKeysInParallelKeepTheirOwnState) {
  crosscut::testing::ManualClock clock;
  MemoryBreakerBackend backend(clock, 8);
  const auto p = policy(3, 1, 1);
  const unsigned threads = thread_count();
  constexpr int kKeysPerThread = 200;
  std::atomic<unsigned> wrong{0};
  race(threads, [&](unsigned i) {
    for (int k = 0; k < kKeysPerThread; ++k) {
      const std::string key = "t" + std::to_string(i) + "/k" + std::to_string(k);
      // Keys with an odd index are opened, the others only see successes: every thread
      // works on every shard at once.
      const int failures = (k % 2) ? 3 : 2;
      for (int f = 0; f < failures; ++f) backend.apply(key, BreakerOp::failure, p, 100 + f);
      backend.apply(key, BreakerOp::success, p, 110);
      auto r = backend.apply(key, BreakerOp::acquire, p, 120);
      const bool should_be_open = (k % 2) != 0;
      if (r.allowed == should_be_open) wrong.fetch_add(1);
      if (r.failures != static_cast<std::uint32_t>(failures)) wrong.fetch_add(1);
    }
  });
  EXPECT_EQ(wrong.load(), 0u);
  auto keys = backend.keys();
  EXPECT_EQ(keys.size(), std::size_t{threads} * kKeysPerThread);
  EXPECT_EQ(std::set<std::string>(keys.begin(), keys.end()).size(), keys.size());
}

TEST(MemoryBreakerConcurrency, ReadersAndWritersOnSharedKeysStayConsistent) {
  crosscut::testing::ManualClock clock;
  MemoryBreakerBackend backend(clock, 4);
  const auto p = policy(1'000'000, 1, 1);  // never opens: every failure stays counted
  const unsigned threads = thread_count();
  constexpr int kOps = 2000;
  race(threads + 1, [&](unsigned i) {
    if (i == threads) {  // one reader listing the keys meanwhile
      for (int n = 0; n < 200; ++n) (void)backend.keys();
      return;
    }
    for (int n = 0; n < kOps; ++n) {
      const std::string key = "shared/" + std::to_string(n % 16);
      backend.apply(key, BreakerOp::acquire, p, 1000);
      backend.apply(key, i % 2 ? BreakerOp::failure : BreakerOp::success, p, 1000);
    }
  });
  std::uint64_t total = 0;
  for (int k = 0; k < 16; ++k)
    total += backend.apply("shared/" + std::to_string(k), BreakerOp::state, p, 1000).failures;
  const std::uint64_t failing_threads = threads / 2;
  EXPECT_EQ(total, failing_threads * kOps);
}

TEST(MemoryBreaker, OperationsWithoutATimeUseTheHostClock) {
  crosscut::testing::TestHost host;
  auto& clock = host.manual_clock();
  MemoryBreakerBackend backend(host.clock());
  const auto p = policy(2, 1, 1);
  clock.set_ms(1'700'000'000'000);
  backend.apply("k", BreakerOp::failure, p, std::nullopt);
  clock.advance(std::chrono::milliseconds(5));
  auto opened = backend.apply("k", BreakerOp::failure, p, std::nullopt);
  ASSERT_TRUE(opened.transition.has_value());
  EXPECT_EQ(opened.now_ms, 1'700'000'000'005);
  ASSERT_TRUE(opened.opened_at_ms.has_value());
  EXPECT_EQ(*opened.opened_at_ms, 1'700'000'000'005);

  clock.advance(std::chrono::milliseconds(999));
  EXPECT_FALSE(backend.apply("k", BreakerOp::acquire, p, std::nullopt).allowed);
  clock.advance(std::chrono::milliseconds(1));
  auto half = backend.apply("k", BreakerOp::acquire, p, std::nullopt);
  EXPECT_TRUE(half.allowed);
  EXPECT_EQ(half.state, BreakerState::half_open);
  EXPECT_EQ(half.now_ms, clock.now_ms());
  // An explicit time still wins over the clock.
  EXPECT_EQ(backend.apply("k", BreakerOp::state, p, 42).now_ms, 42);
}

TEST(MemoryBreaker, KeysListsBreakersThatWereUsedButNotMereQueries) {
  crosscut::testing::ManualClock clock;
  MemoryBreakerBackend backend(clock);
  const auto p = policy(3, 1, 1);
  backend.apply("a", BreakerOp::acquire, p, 1);
  backend.apply("b", BreakerOp::failure, p, 1);
  backend.apply("c", BreakerOp::force_open, p, 1);
  backend.apply("queried", BreakerOp::state, p, 1);
  backend.apply("reset", BreakerOp::reset, p, 1);
  auto keys = backend.keys();
  EXPECT_EQ(std::set<std::string>(keys.begin(), keys.end()),
            (std::set<std::string>{"a", "b", "c"}));
}

TEST(MemoryBreaker, InvalidPolicyThrowsAndCreatesNothing) {
  crosscut::testing::ManualClock clock;
  MemoryBreakerBackend backend(clock);
  auto p = policy(3, 4, 3);
  EXPECT_THROW(backend.apply("k", BreakerOp::failure, p, 1), std::invalid_argument);
  EXPECT_TRUE(backend.keys().empty());
}

TEST(MemoryBreaker, ShardCountIsRoundedUpToAPowerOfTwo) {
  crosscut::testing::ManualClock clock;
  EXPECT_EQ(MemoryBreakerBackend(clock, 0).shard_count(), 1u);
  EXPECT_EQ(MemoryBreakerBackend(clock, 5).shard_count(), 8u);
  EXPECT_EQ(MemoryBreakerBackend(clock, 64).shard_count(), 64u);
}

// The exported descriptor, as the host sees it after loading the .so.
TEST(MemoryBreakerPlugin, DescribesAndCreatesTheMemoryBackend) {
  const crosscut_plugin_info* info = crosscut_plugin_entry();
  ASSERT_NE(info, nullptr);
  EXPECT_EQ(info->sdk_abi_version, static_cast<std::uint32_t>(CROSSCUT_SDK_ABI_VERSION));
  EXPECT_STREQ(info->name, "memory_breaker");
  EXPECT_STREQ(info->version, "1.0.0");
  const auto& descriptor = *static_cast<const crosscut::sdk::PluginDescriptor*>(info->descriptor);
  ASSERT_EQ(descriptor.components.size(), 1u);
  const auto& factory = descriptor.components[0];
  EXPECT_EQ(factory.kind, crosscut::sdk::ComponentKind::breaker_backend);
  EXPECT_EQ(factory.type, "memory");

  crosscut::sdk::ConfigNode options;
  options.kind = crosscut::sdk::ConfigNode::Kind::map;
  crosscut::sdk::ConfigNode shards;
  shards.kind = crosscut::sdk::ConfigNode::Kind::scalar;
  shards.scalar = "16";
  options.entries.emplace_back("shards", shards);
  crosscut::testing::TestHost host;
  auto component =
      factory.create(crosscut::sdk::ConfigView(&options, nullptr, "breakers.backend"), host);
  auto* backend = dynamic_cast<MemoryBreakerBackend*>(component.get());
  ASSERT_NE(backend, nullptr);
  EXPECT_EQ(backend->shard_count(), 16u);
  EXPECT_TRUE(backend->apply("k", BreakerOp::acquire, BreakerPolicy{}, std::nullopt).allowed);

  // The bounds are the table's, enforced by the host's validator before the factory runs.
  auto validation_error = [&](const std::string& value) -> std::string {
    options.entries[0].second.scalar = value;
    try {
      crosscut::config::validate_options(options, factory.schema, {nullptr, "breakers.backend"},
                                         {"type"});
    } catch (const crosscut::sdk::ConfigError& e) {
      return e.what();
    }
    return "(no error)";
  };
  // The validator's wording of a bound is its own; the position, bound and value are ours.
  const std::string at = "<config>:0:0: breakers.backend.shards: must be ";
  const std::string too_many = validation_error("100000");
  EXPECT_EQ(too_many.rfind(at, 0), 0u) << too_many;
  EXPECT_NE(too_many.find("65536 (got 100000)"), std::string::npos) << too_many;
  const std::string none = validation_error("0");
  EXPECT_EQ(none.rfind(at, 0), 0u) << none;
  EXPECT_NE(none.find(" 1 "), std::string::npos) << none;
  EXPECT_NE(none.find("(got 0)"), std::string::npos) << none;
  EXPECT_EQ(validation_error("1"), "(no error)");
  EXPECT_EQ(validation_error("65536"), "(no error)");
}

TEST(MemoryBreakerPlugin, TableDefaults) {
  const auto& schema = MemoryBreakerBackend::options_table().schema();
  ASSERT_EQ(schema.size(), 3u);
  EXPECT_EQ(schema[0].key, "shards");
  EXPECT_EQ(schema[0].default_value, "64");
  EXPECT_EQ(schema[1].key, "max_keys");
  EXPECT_EQ(schema[1].default_value, "100000");
  EXPECT_EQ(schema[1].min, 1);
  EXPECT_EQ(schema[2].key, "idle_evict_after");
  EXPECT_EQ(schema[2].default_value, "600s");
  EXPECT_TRUE(schema[2].positive);
  crosscut::testing::TestHost host;
  crosscut::sdk::ConfigNode empty;
  empty.kind = crosscut::sdk::ConfigNode::Kind::map;
  const auto options = MemoryBreakerBackend::options_table().read(
      crosscut::sdk::ConfigView(&empty, nullptr, "breakers.backend"));
  EXPECT_EQ(MemoryBreakerBackend(options, host).shard_count(), 64u);
  EXPECT_EQ(options.max_keys, 100'000u);
  EXPECT_EQ(options.idle_evict_after, std::chrono::minutes(10));
}

}  // namespace
