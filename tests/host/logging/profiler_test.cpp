#include "crosscut/profiler.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <vector>

#include "engine_fixture.hpp"

namespace crosscut::testing {
namespace {

TEST(Profiler, SummaryFormat) {
  EXPECT_EQ(Profiler::summary("load", std::chrono::milliseconds(1234), 5662310),
            "load took 1.23s, memory: +5.4MB");
  EXPECT_EQ(Profiler::summary("gc", std::chrono::milliseconds(5), -1048576),
            "gc took 0.01s, memory: -1.0MB");
}

TEST(Profiler, LogsOnScopeExitAndEmitsASample) {
  EngineUnderTest t;
  InlineEventBus bus;
  std::vector<sdk::ProfileSample> samples;
  auto sub = bus.on<sdk::ProfileSample>([&](const sdk::ProfileSample& s) { samples.push_back(s); });
  {
    Profiler p(t.engine->logger("orchestrator"), "expensive_operation", &bus);
    std::vector<char> touch(8 << 20, 1);  // grow the RSS a little
    EXPECT_EQ(touch[12345], 1);
    EXPECT_TRUE(t.sink.records().empty());  // nothing before the scope ends
  }
  const auto records = t.drain();
  ASSERT_EQ(records.size(), 1u);
  // "<op> took <s>.<2 digits>s, memory: <+|-><MB>.<1 digit>MB"
  const std::string& m = records[0].message;
  double seconds = -1, mb = -1;
  char sign = 0;
  int consumed = 0;
  ASSERT_EQ(std::sscanf(m.c_str(), "expensive_operation took %lfs, memory: %c%lfMB%n", &seconds,
                        &sign, &mb, &consumed),
            3)
      << m;
  EXPECT_EQ(static_cast<std::size_t>(consumed), m.size()) << m;
  EXPECT_TRUE(sign == '+' || sign == '-') << m;
  EXPECT_EQ(m.find("s, memory: ") - m.find('.'), 3u) << m;
  EXPECT_EQ(m.size() - m.rfind('.'), 4u) << m;
  const auto& e = records[0].extra;
  EXPECT_EQ(e.find("operation")->as_string(), "expensive_operation");
  EXPECT_GE(e.find("duration_ms")->as_double(), 0.0);
  EXPECT_GT(e.find("rss_bytes")->as_int(), 0);
  ASSERT_NE(e.find("rss_delta_bytes"), nullptr);
  ASSERT_EQ(samples.size(), 1u);
  EXPECT_EQ(samples[0].operation, "expensive_operation");
  EXPECT_EQ(samples[0].rss_bytes, e.find("rss_bytes")->as_int());
  EXPECT_EQ(samples[0].rss_delta_bytes, e.find("rss_delta_bytes")->as_int());
}

TEST(Profiler, WithoutBusOnlyLogs) {
  EngineUnderTest t;
  { Profiler p(t.engine->logger("x"), "op"); }
  EXPECT_EQ(t.drain().size(), 1u);
  EXPECT_GT(current_rss_bytes(), 0);
}

}  // namespace
}  // namespace crosscut::testing
