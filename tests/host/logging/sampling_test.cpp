#include <gtest/gtest.h>

#include <latch>
#include <thread>

#include "engine_fixture.hpp"
#include "logging/log_sampler.hpp"

namespace crosscut::testing {
namespace {

std::int64_t suppressed_of(const RecordedLog& r) {
  if (const sdk::Value* v = r.extra.find("suppressed")) return v->as_int();
  return 0;
}
bool is_shutdown_report(const RecordedLog& r) {
  return r.extra.find("shutdown") != nullptr;
}

TEST(LogSampler, LimitsPerSecondAndReportsOnTheNextRecord) {
  logging::LogSampler s(3);
  int emitted = 0;
  for (int i = 0; i < 10; ++i) emitted += s.admit(nullptr, "tick", sdk::Level::info, 100).emit;
  EXPECT_EQ(emitted, 3);
  // Another template is independent.
  EXPECT_TRUE(s.admit(nullptr, "other", sdk::Level::info, 100).emit);
  const auto next = s.admit(nullptr, "tick", sdk::Level::info, 101);
  EXPECT_TRUE(next.emit);
  EXPECT_EQ(next.suppressed, 7u);
  EXPECT_EQ(s.admit(nullptr, "tick", sdk::Level::info, 101).suppressed, 0u);
  EXPECT_TRUE(s.take_pending().empty());
}

TEST(LogSampler, PendingCountsAreTakenOnce) {
  logging::LogSampler s(1);
  for (int i = 0; i < 5; ++i) s.admit(nullptr, "x", sdk::Level::warning, 7);
  auto pending = s.take_pending();
  ASSERT_EQ(pending.size(), 1u);
  EXPECT_EQ(pending[0].message, "x");
  EXPECT_EQ(pending[0].suppressed, 4u);
  EXPECT_EQ(pending[0].level, sdk::Level::warning);
  EXPECT_TRUE(s.take_pending().empty());
}

TEST(LogSampler, ZeroDisablesSampling) {
  logging::LogSampler s(0);
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(s.admit(nullptr, "x", sdk::Level::info, 1).emit);
}

// Conservation through the whole engine: records written + suppressed counts reported (in
// later records and at shutdown) == records asked for, across threads and seconds.
TEST(SamplingEndToEnd, NoCountIsLost) {
  auto options = EngineUnderTest::quiet_options();
  options.sampling.per_message_per_second = 10;
  EngineUnderTest t(options);
  constexpr int kThreads = 4, kPerThread = 3000;
  std::latch go(kThreads + 1);
  std::vector<std::thread> threads;
  for (int th = 0; th < kThreads; ++th) {
    threads.emplace_back([&, th] {
      auto log = t.engine->logger("feed");
      go.arrive_and_wait();
      for (int i = 0; i < kPerThread; ++i) {
        log.info(i % 2 ? "tick" : "tock", {{"i", i}});
        if (th == 0 && i % 500 == 0) t.clock.advance(std::chrono::milliseconds(700));
      }
    });
  }
  go.arrive_and_wait();
  for (auto& th : threads) th.join();
  t.engine->shutdown();
  const auto records = t.sink.records();
  std::int64_t logged = 0, reported = 0;
  for (const auto& r : records) {
    if (!is_shutdown_report(r)) ++logged;
    reported += suppressed_of(r);
  }
  EXPECT_EQ(logged + reported, kThreads * kPerThread);
  EXPECT_GT(reported, 0);
  EXPECT_EQ(t.engine->stats().suppressed, static_cast<std::uint64_t>(reported));
}

TEST(SamplingEndToEnd, ReportRidesOnTheNextRecordOfTheTemplate) {
  auto options = EngineUnderTest::quiet_options();
  options.sampling.per_message_per_second = 2;
  EngineUnderTest t(options);
  auto log = t.engine->logger("feed");
  for (int i = 0; i < 5; ++i) log.info("burst");
  t.clock.advance(std::chrono::seconds(1));
  log.info("burst");
  const auto records = t.drain();
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(suppressed_of(records[0]), 0);
  EXPECT_EQ(suppressed_of(records[1]), 0);
  EXPECT_EQ(suppressed_of(records[2]), 3);
}

TEST(SamplingEndToEnd, ShutdownReportsWhatIsStillPending) {
  auto options = EngineUnderTest::quiet_options();
  options.sampling.per_message_per_second = 1;
  EngineUnderTest t(options);
  auto log = t.engine->logger("feed");
  for (int i = 0; i < 4; ++i) log.warning("flood");
  t.engine->shutdown();
  const auto records = t.sink.records();
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[1].message, "flood");
  EXPECT_EQ(records[1].level, sdk::Level::warning);
  EXPECT_TRUE(is_shutdown_report(records[1]));
  EXPECT_EQ(suppressed_of(records[1]), 3);
}

}  // namespace
}  // namespace crosscut::testing
