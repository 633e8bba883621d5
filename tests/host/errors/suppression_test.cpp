// Duplicate suppression accounting: 1 + duplicates over published DTOs == errors seen.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "errors_test_support.hpp"

namespace crosscut {
namespace {

using errors_test::LambdaRule;
using errors_test::MemorySink;
using errors_test::parse;
using errors_test::upbit;
using namespace std::chrono_literals;

LambdaRule suppress_rule(std::chrono::milliseconds period) {
  return LambdaRule("dedupe", [period](const sdk::ErrorView&) -> std::optional<sdk::Decision> {
    sdk::Decision d;
    d.suppress_for = period;
    return d;
  });
}

struct Fixture : errors_test::DispatcherHarness {
  explicit Fixture(const sdk::ExceptionRule& rule) : DispatcherHarness({.rules = {&rule}}) {}
  std::vector<std::pair<std::string, std::int64_t>> published() {
    std::vector<std::pair<std::string, std::int64_t>> out;
    for (const auto& r : sink.records()) {
      auto d = parse(r.payload);
      out.emplace_back(d["exception"]["message"].GetString(), d["duplicates"].GetInt64());
    }
    return out;
  }
};

TEST(ErrorSuppression, LatestHeldErrorIsPublishedWhenThePeriodEnds) {
  auto rule = suppress_rule(10s);
  Fixture f(rule);
  for (int i = 0; i < 4; ++i) {
    f.dispatcher->dispatch(std::runtime_error("e" + std::to_string(i)), "ws_connection", upbit());
    f.clock.advance(1s);
  }
  f.dispatcher->flush_expired();  // 4s into the period: nothing ends yet
  EXPECT_EQ(f.published(), (std::vector<std::pair<std::string, std::int64_t>>{{"e0", 0}}));
  f.clock.advance(6s);
  f.dispatcher->flush_expired();
  EXPECT_EQ(f.published(),
            (std::vector<std::pair<std::string, std::int64_t>>{{"e0", 0}, {"e3", 2}}));
  f.dispatcher->flush_expired();  // nothing twice
  EXPECT_EQ(f.sink.records().size(), 2u);
}

TEST(ErrorSuppression, ALaterDispatchClosesAnEndedPeriod) {
  auto rule = suppress_rule(5s);
  Fixture f(rule);
  f.dispatcher->dispatch(std::runtime_error("a"), "ws_connection", upbit());
  f.dispatcher->dispatch(std::runtime_error("b"), "ws_connection", upbit());
  f.clock.advance(5s);
  f.dispatcher->dispatch(std::runtime_error("c"), "ws_connection", upbit());
  EXPECT_EQ(f.published(),
            (std::vector<std::pair<std::string, std::int64_t>>{{"a", 0}, {"b", 0}, {"c", 0}}));
}

TEST(ErrorSuppression, KeysAreKindTargetAndExceptionType) {
  auto rule = suppress_rule(5s);
  Fixture f(rule);
  f.dispatcher->dispatch(std::runtime_error("1"), "ws_connection", upbit());
  f.dispatcher->dispatch(std::runtime_error("2"), "ws_subscription", upbit());
  f.dispatcher->dispatch(std::runtime_error("3"), "ws_connection", {"bithumb", "korea", "ticker"});
  f.dispatcher->dispatch(std::logic_error("4"), "ws_connection", upbit());
  f.dispatcher->dispatch(std::runtime_error("5"), "ws_connection", upbit());  // dup of 1
  EXPECT_EQ(f.sink.records().size(), 4u);
  EXPECT_EQ(f.dispatcher->stats().suppressed, 1u);
}

TEST(ErrorSuppression, ShutdownPublishesEverythingHeld) {
  auto rule = suppress_rule(1h);
  Fixture f(rule);
  for (int i = 0; i < 10; ++i)
    f.dispatcher->dispatch(std::runtime_error("m" + std::to_string(i)), "k", upbit());
  f.dispatcher->shutdown();
  EXPECT_EQ(f.published(),
            (std::vector<std::pair<std::string, std::int64_t>>{{"m0", 0}, {"m9", 8}}));
  const auto s = f.dispatcher->stats();
  EXPECT_EQ(s.represented, s.seen);
}

TEST(ErrorSuppression, AccountingHoldsUnderManyThreads) {
  auto rule = suppress_rule(50ms);
  Fixture f(rule);
  constexpr int kThreads = 8;
  constexpr int kPerThread = 3000;
  std::atomic<int> running{kThreads};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      const std::string kinds[] = {"ws_connection", "ws_subscription", "kafka_producer"};
      for (int i = 0; i < kPerThread; ++i) {
        sdk::Target target{(i % 2) ? "upbit" : "bithumb", "korea", "ticker"};
        if ((i + t) % 5 == 0)
          f.dispatcher->dispatch(std::logic_error("l"), kinds[i % 3], target);
        else
          f.dispatcher->dispatch(std::runtime_error("r"), kinds[i % 3], target);
      }
      --running;
    });
  // Time moves and periods close while the threads dispatch.
  while (running.load() > 0) {
    f.clock.advance(7ms);
    f.dispatcher->flush_expired();
  }
  for (auto& t : threads) t.join();
  f.dispatcher->shutdown();

  std::int64_t represented = 0;
  for (const auto& r : f.sink.records())
    represented += 1 + parse(r.payload)["duplicates"].GetInt64();
  EXPECT_EQ(represented, kThreads * kPerThread);
  const auto s = f.dispatcher->stats();
  EXPECT_EQ(s.seen, static_cast<std::uint64_t>(kThreads * kPerThread));
  EXPECT_EQ(s.represented, s.seen);
  EXPECT_EQ(s.published, f.sink.records().size());
  EXPECT_GT(s.suppressed, 0u);
}

}  // namespace
}  // namespace crosscut
