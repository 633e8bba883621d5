// The memory backend's bound on keys: idle keys that lose nothing by going are evicted, the
// number of keys never passes max_keys, breakers holding state that matters are never evicted,
// and a key that cannot be stored is answered as a fresh CLOSED breaker and counted.
#include <gtest/gtest.h>

#include <atomic>
#include <latch>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "memory_breaker/memory_breaker_backend.hpp"
#include "support/test_host.hpp"

namespace {

using crosscut::memory_breaker::MemoryBreakerBackend;
using crosscut::memory_breaker::MemoryBreakerOptions;
using crosscut::sdk::BreakerOp;
using crosscut::sdk::BreakerPolicy;
using crosscut::sdk::BreakerResult;
using crosscut::sdk::BreakerState;

constexpr std::int64_t kT0 = 1'737'619'200'000;
constexpr std::int64_t kMinute = 60'000;

BreakerPolicy policy() {
  BreakerPolicy p;
  p.failure_threshold = 3;
  p.success_threshold = 1;
  p.half_open_max_calls = 1;
  p.timeout = std::chrono::milliseconds(1000);
  p.sliding_window = std::chrono::milliseconds(5 * kMinute);
  return p;
}

MemoryBreakerOptions options(std::size_t max_keys, std::size_t shards = 64) {
  MemoryBreakerOptions o;
  o.max_keys = max_keys;
  o.shards = shards;
  o.idle_evict_after = std::chrono::minutes(10);
  return o;
}

std::string long_key(std::size_t i, std::size_t bytes = 200) {
  std::string k = "exchange-" + std::to_string(i) + "/";
  k.resize(bytes, 'r');
  return k;
}

void open(MemoryBreakerBackend& b, const std::string& key, std::int64_t at) {
  for (int i = 0; i < 3; ++i) b.apply(key, BreakerOp::failure, policy(), at);
}

TEST(MemoryBreakerEviction, DistinctLongKeysKeepTheKeyCountWithinMaxKeys) {
  crosscut::testing::ManualClock clock;
  MemoryBreakerBackend backend(clock, options(1000));
  constexpr std::size_t kKeys = 100'000;
  for (std::size_t i = 0; i < kKeys; ++i) {
    const std::string key = long_key(i);
    // All within a minute: no key is idle, room is made by evicting the least recently used.
    const std::int64_t at = kT0 + static_cast<std::int64_t>(i % kMinute);
    ASSERT_TRUE(backend.apply(key, BreakerOp::acquire, policy(), at).allowed);
    backend.apply(key, BreakerOp::success, policy(), at);
    ASSERT_LE(backend.stats().keys_live, 1000u);
  }
  EXPECT_LE(backend.keys().size(), 1000u);
  const auto s = backend.stats();
  EXPECT_EQ(s.keys_live, backend.keys().size());
  EXPECT_EQ(s.keys_evicted, kKeys - s.keys_live);
  EXPECT_EQ(s.keys_evicted_for_room, s.keys_evicted);
  EXPECT_EQ(s.keys_refused, 0u) << "every key could go: none was refused";
}

TEST(MemoryBreakerEviction, TheDefaultBoundHoldsToo) {
  crosscut::testing::ManualClock clock;
  MemoryBreakerBackend backend(clock, MemoryBreakerOptions{});
  const std::size_t max = MemoryBreakerOptions{}.max_keys;
  for (std::size_t i = 0; i < max + max / 2; ++i)
    backend.apply(long_key(i, 32), BreakerOp::success, policy(), kT0);
  EXPECT_EQ(backend.stats().keys_live, max);
  EXPECT_EQ(backend.keys().size(), max);
}

TEST(MemoryBreakerEviction, OpenAndHalfOpenBreakersAreNeverEvicted) {
  crosscut::testing::ManualClock clock;
  MemoryBreakerBackend backend(clock, options(100, 4));
  open(backend, "open", kT0);
  backend.apply("forced", BreakerOp::force_open, policy(), kT0);
  open(backend, "half", kT0);
  ASSERT_TRUE(backend.apply("half", BreakerOp::acquire, policy(), kT0 + 1000).allowed);
  // Hours of traffic on other keys, far more than max_keys, idle periods passing many times.
  for (std::size_t i = 0; i < 50'000; ++i)
    backend.apply(long_key(i, 40), BreakerOp::success, policy(),
                  kT0 + 2000 + static_cast<std::int64_t>(i) * 1000);
  const std::int64_t later = kT0 + 2000 + 50'000 * 1000;
  auto open_now = backend.apply("open", BreakerOp::state, policy(), later);
  EXPECT_EQ(open_now.state, BreakerState::half_open) << "OPEN underneath, timeout elapsed";
  ASSERT_TRUE(open_now.opened_at_ms.has_value()) << "a fresh breaker has none";
  EXPECT_EQ(*open_now.opened_at_ms, kT0);
  auto forced = backend.apply("forced", BreakerOp::acquire, policy(), later);
  EXPECT_FALSE(forced.allowed);
  EXPECT_TRUE(forced.forced_open);
  EXPECT_EQ(backend.apply("half", BreakerOp::state, policy(), later).state, BreakerState::open)
      << "the trial period ran out: OPEN, as if never idle";
  const auto keys = backend.keys();
  const std::set<std::string> held(keys.begin(), keys.end());
  EXPECT_TRUE(held.count("open") && held.count("forced") && held.count("half"));
  EXPECT_LE(backend.stats().keys_live, 100u);
}

TEST(MemoryBreakerEviction, AClosedBreakerWithARecentFailureIsNotEvicted) {
  crosscut::testing::ManualClock clock;
  MemoryBreakerBackend backend(clock, options(10, 1));
  backend.apply("failing", BreakerOp::failure, policy(), kT0);
  backend.apply("failing", BreakerOp::failure, policy(), kT0 + 1);
  // Fill and churn the store well inside the failure's window (5 minutes).
  for (std::size_t i = 0; i < 1000; ++i)
    backend.apply(long_key(i, 20), BreakerOp::success, policy(),
                  kT0 + 2 + static_cast<std::int64_t>(i));
  auto r = backend.apply("failing", BreakerOp::failure, policy(), kT0 + 2000);
  ASSERT_TRUE(r.transition.has_value()) << "the two earlier failures were kept";
  EXPECT_EQ(r.state, BreakerState::open);
}

TEST(MemoryBreakerEviction, AnIdleClosedKeyGoesAfterTheIdlePeriodAndComesBackFresh) {
  crosscut::testing::ManualClock clock;
  MemoryBreakerBackend backend(clock, options(1000, 1));
  // A breaker with a history: opened, trial, closed again; one old failure left outside the
  // window after it closed.
  open(backend, "k", kT0);
  ASSERT_TRUE(backend.apply("k", BreakerOp::acquire, policy(), kT0 + 1000).allowed);
  backend.apply("k", BreakerOp::success, policy(), kT0 + 1001);
  backend.apply("k", BreakerOp::failure, policy(), kT0 + 1002);
  const std::int64_t last = kT0 + 1002;
  const std::int64_t idle = 10 * kMinute;

  backend.apply("other", BreakerOp::success, policy(), last + idle - 1);
  EXPECT_EQ(backend.keys().size(), 2u) << "not idle long enough";
  backend.apply("other", BreakerOp::success, policy(), last + idle);
  const auto keys = backend.keys();
  EXPECT_EQ(keys, std::vector<std::string>{"other"});
  EXPECT_EQ(backend.stats().keys_evicted, 1u);
  EXPECT_EQ(backend.stats().keys_evicted_for_room, 0u);

  // From here on, the evicted key and a key never seen answer every operation alike.
  MemoryBreakerBackend fresh(clock, options(1000, 1));
  const BreakerOp trace[] = {BreakerOp::state,   BreakerOp::failure, BreakerOp::failure,
                             BreakerOp::acquire, BreakerOp::failure, BreakerOp::acquire,
                             BreakerOp::state,   BreakerOp::acquire, BreakerOp::success,
                             BreakerOp::state};
  std::int64_t at = last + idle + 5;
  for (BreakerOp op : trace) {
    const BreakerResult a = backend.apply("k", op, policy(), at);
    const BreakerResult b = fresh.apply("never-seen", op, policy(), at);
    EXPECT_EQ(a.allowed, b.allowed) << crosscut::sdk::op_name(op) << " at " << at;
    EXPECT_EQ(a.state, b.state) << crosscut::sdk::op_name(op) << " at " << at;
    EXPECT_EQ(a.failures, b.failures) << crosscut::sdk::op_name(op) << " at " << at;
    EXPECT_EQ(a.transition.has_value(), b.transition.has_value()) << crosscut::sdk::op_name(op);
    EXPECT_EQ(a.opened_at_ms, b.opened_at_ms) << crosscut::sdk::op_name(op);
    EXPECT_FALSE(a.degraded);
    at += 700;
  }
}

TEST(MemoryBreakerEviction, WhenNothingCanGoANewKeyIsAnsweredFreshAndCounted) {
  crosscut::testing::TestHost host;
  MemoryBreakerBackend backend(host.clock(), options(8, 1), &host);
  for (int i = 0; i < 8; ++i) open(backend, "open/" + std::to_string(i), kT0);
  ASSERT_EQ(backend.stats().keys_live, 8u);

  // A ninth key: nothing may go, so it is not stored; each operation sees a fresh breaker.
  for (int i = 0; i < 5; ++i) {
    auto r = backend.apply("newcomer", BreakerOp::failure, policy(), kT0 + 10 + i);
    EXPECT_EQ(r.state, BreakerState::closed);
    EXPECT_EQ(r.failures, 0u);
    EXPECT_FALSE(r.transition.has_value());
    EXPECT_TRUE(r.degraded);
  }
  EXPECT_TRUE(backend.apply("newcomer", BreakerOp::acquire, policy(), kT0 + 20).allowed);
  EXPECT_EQ(backend.stats().keys_refused, 6u);
  EXPECT_EQ(backend.stats().keys_live, 8u);
  EXPECT_EQ(backend.keys().size(), 8u);

  auto refused_lines = [&] {
    std::size_t n = 0;
    for (const auto& r : host.logs("breaker")) n += r.message.find("breaker store full") == 0;
    return n;
  };
  EXPECT_EQ(refused_lines(), 1u) << "one line for the first minute";
  backend.apply("newcomer", BreakerOp::failure, policy(), kT0 + kMinute + 10);
  EXPECT_EQ(refused_lines(), 2u);
  // The figures reach the host's metrics (at most once a second of operation time).
  backend.apply("open/0", BreakerOp::state, policy(), kT0 + 2 * kMinute);
  backend.apply("open/0", BreakerOp::acquire, policy(), kT0 + 2 * kMinute);
  EXPECT_EQ(host.metric("memory_breaker.keys_live"), 8);
  EXPECT_EQ(host.metric("memory_breaker.keys_refused"), 7);

  // Once a breaker closes, its key may make room again.
  backend.apply("open/3", BreakerOp::reset, policy(), kT0 + 2 * kMinute + 1);
  auto r = backend.apply("newcomer", BreakerOp::failure, policy(), kT0 + 2 * kMinute + 2);
  EXPECT_FALSE(r.degraded);
  EXPECT_EQ(r.failures, 1u);
  EXPECT_EQ(backend.stats().keys_evicted_for_room, 1u);
}

TEST(MemoryBreakerEviction, RoomIsFoundInAnotherShard) {
  crosscut::testing::ManualClock clock;
  MemoryBreakerBackend backend(clock, options(64, 4));
  // Fill the store with removable keys, then bring in keys that cannot go (a failure in their
  // window). Each of the first 64 newcomers finds room, in its own shard or another one, until
  // no removable key is left anywhere.
  for (std::size_t i = 0; i < 64; ++i)
    backend.apply(long_key(i, 30), BreakerOp::success, policy(), kT0);
  std::size_t refused = 0;
  for (std::size_t i = 64; i < 10'000; ++i)
    refused += backend.apply(long_key(i, 30), BreakerOp::failure, policy(), kT0 + 1).degraded;
  EXPECT_EQ(backend.stats().keys_live, 64u);
  // New keys with a failure are not removable: once the first 64 went, nothing can go.
  EXPECT_EQ(refused, 10'000u - 128u);
  EXPECT_EQ(backend.stats().keys_refused, refused);
}

TEST(MemoryBreakerEviction, ConcurrentChurnKeepsTheBoundAndTheOpenBreakers) {
  crosscut::testing::ManualClock clock;
  MemoryBreakerBackend backend(clock, options(500, 8));
  for (int i = 0; i < 50; ++i) open(backend, "open/" + std::to_string(i), kT0);
  const unsigned threads = std::max(4u, std::thread::hardware_concurrency());
  std::latch start(threads);
  std::atomic<std::size_t> over_bound{0};
  {
    std::vector<std::jthread> workers;
    for (unsigned t = 0; t < threads; ++t)
      workers.emplace_back([&, t] {
        start.arrive_and_wait();
        for (std::size_t i = 0; i < 20'000; ++i) {
          const std::string key = "t" + std::to_string(t) + "/" + std::to_string(i);
          const auto at = kT0 + 1 + static_cast<std::int64_t>(i) * 100;
          backend.apply(key, i % 7 == 0 ? BreakerOp::failure : BreakerOp::success, policy(), at);
          if (backend.stats().keys_live > 500) over_bound.fetch_add(1);
        }
      });
  }
  EXPECT_EQ(over_bound.load(), 0u);
  EXPECT_LE(backend.keys().size(), 500u);
  for (int i = 0; i < 50; ++i) {
    auto r = backend.apply("open/" + std::to_string(i), BreakerOp::state, policy(), kT0 + 500);
    EXPECT_EQ(r.state, BreakerState::open) << i;
    EXPECT_EQ(r.failures, 3u) << i;
  }
}

}  // namespace
