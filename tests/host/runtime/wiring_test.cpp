// The runtime wired from YAML end to end: rules, the error dispatcher, breakers, handlers
// from a plugin, minute batches, all through real record sinks (the stdio_sink `file` sink).
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <fstream>
#include <sstream>

#include "crosscut/runtime.hpp"
#include "support/process.hpp"
#include "support/test_host.hpp"

using crosscut::Runtime;
using crosscut::RuntimeOptions;

namespace {

RuntimeOptions options(const crosscut::sdk::Clock* clock) {
  RuntimeOptions o;
  o.plugin_paths = {CROSSCUT_TEST_PLUGIN_DIR,
                    std::string(CROSSCUT_TEST_FIXTURE_PLUGIN_DIR) + "/recording_handler"};
  o.clock = clock;
  return o;
}

std::vector<rapidjson::Document> read_ndjson(const std::filesystem::path& file) {
  std::vector<rapidjson::Document> out;
  std::ifstream in(file);
  std::string line;
  while (std::getline(in, line)) {
    out.emplace_back();
    out.back().Parse(line.c_str());
    EXPECT_FALSE(out.back().HasParseError()) << line;
  }
  return out;
}

}  // namespace

TEST(RuntimeWiring, ErrorsGoThroughRulesBreakersAndTheSinkAndReachHandlers) {
  crosscut::testing::TempDir dir;
  crosscut::testing::ManualClock clock;
  auto records = dir.path() / "records.ndjson";
  auto events = dir.path() / "events.ndjson";
  std::string yaml =
      "service: {name: collector-upbit}\n"
      "sinks:\n  out: {type: file, path: \"" +
      records.string() +
      "\"}\n"
      "breakers:\n  defaults: {failure_threshold: 2}\n"
      "errors:\n  sink: out\n  topic: ws.error\n  timezone: \"+09:00\"\n  rules:\n"
      "    - name: rate-limited\n"
      "      match: {kind: ws_connection, message: \"(?i)429|too many requests\", exchange: "
      "upbit}\n"
      "      then: {kind: rate_limited, severity: warning, breaker: ignore}\n"
      "handlers:\n  - {type: recording, on: [error, breaker_transition], options: {path: \"" +
      events.string() + "\"}}\n";
  {
    auto rt = Runtime::from_string(yaml, "wiring.yaml", options(&clock));
    crosscut::sdk::Target target{"upbit", "korea", "ticker"};
    rt->errors().dispatch(std::runtime_error("HTTP 429 Too Many Requests"), "ws_connection", target,
                          crosscut::sdk::Value::object({{"attempt", 3}}));
    rt->errors().dispatch(std::runtime_error("connection refused"), "ws_connection", target);
    rt->errors().dispatch(std::runtime_error("connection reset"), "ws_connection", target);
    ASSERT_TRUE(rt->shutdown());
  }
  auto lines = read_ndjson(records);
  ASSERT_EQ(lines.size(), 3u);
  for (const auto& l : lines) {
    EXPECT_STREQ(l["topic"].GetString(), "ws.error");
    EXPECT_STREQ(l["key"].GetString(), "upbit/korea/ticker");
  }
  const auto& first = lines[0]["value"];
  EXPECT_STREQ(first["kind"].GetString(), "rate_limited");
  EXPECT_STREQ(first["severity"].GetString(), "warning");
  EXPECT_STREQ(first["rule"].GetString(), "rate-limited");
  EXPECT_STREQ(first["service"]["name"].GetString(), "collector-upbit");
  EXPECT_EQ(first["context"]["attempt"].GetInt(), 3);
  EXPECT_NE(std::string(first["timestamp"].GetString()).find("+09:00"), std::string::npos);
  // No rule matched the others: defaults (error, trip). Two trips open the breaker.
  EXPECT_STREQ(lines[1]["value"]["severity"].GetString(), "error");
  EXPECT_STREQ(lines[1]["value"]["breaker"]["state"].GetString(), "CLOSED");
  EXPECT_STREQ(lines[2]["value"]["breaker"]["state"].GetString(), "OPEN");
  EXPECT_STREQ(lines[2]["value"]["breaker"]["key"].GetString(), "upbit/korea/ticker");

  // The handler plugin saw the three errors and the transition.
  std::ifstream in(events);
  std::stringstream all;
  all << in.rdbuf();
  std::string text = all.str();
  std::size_t errors = 0;
  for (std::size_t p = 0; (p = text.find("\"event\":\"error\"", p)) != std::string::npos; ++p)
    ++errors;
  EXPECT_EQ(errors, 3u) << text;
  EXPECT_NE(text.find("breaker_transition"), std::string::npos) << text;
}

TEST(RuntimeWiring, MinuteBatchesArePublishedAtShutdown) {
  crosscut::testing::TempDir dir;
  crosscut::testing::ManualClock clock(1'737'619'200'000);  // 2025-01-23T08:00:00Z, a minute start
  auto records = dir.path() / "metrics.ndjson";
  std::string yaml = "sinks:\n  out: {type: file, path: \"" + records.string() +
                     "\"}\nmetrics: {sink: out, topic: ws.metrics}\n";
  {
    auto rt = Runtime::from_string(yaml, "metrics.yaml", options(&clock));
    auto& counter = rt->counter({.exchange = "upbit", .region = "korea", .request_type = "ticker"});
    for (int i = 0; i < 120; ++i) counter.increment("btc");
    for (int i = 0; i < 60; ++i) counter.increment("ETH");
    counter.increment();
    counter.increment("BTC", std::int64_t{1'737'619'260'500});  // the next minute, by event time
    ASSERT_TRUE(rt->shutdown());
  }
  auto lines = read_ndjson(records);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_STREQ(lines[0]["topic"].GetString(), "ws.metrics");
  EXPECT_STREQ(lines[0]["key"].GetString(), "korea/upbit/ticker");
  const auto& v = lines[0]["value"];
  EXPECT_STREQ(v["region"].GetString(), "korea");
  EXPECT_STREQ(v["exchange"].GetString(), "upbit");
  const auto& items = v["batch"]["items"];
  ASSERT_EQ(items.Size(), 2u);
  EXPECT_EQ(items[0]["minute_start_ts_kst"].GetInt64(), 1737619200);
  EXPECT_EQ(items[0]["total"].GetInt(), 181);
  EXPECT_EQ(items[0]["details"]["BTC_COUNT"].GetInt(), 120);
  EXPECT_EQ(items[0]["details"]["ETH_COUNT"].GetInt(), 60);
  EXPECT_EQ(items[1]["details"]["BTC_COUNT"].GetInt(), 1);
  EXPECT_EQ(v["batch"]["range_end_ts_kst"].GetInt64(), 1737619260 + 59);
}

TEST(RuntimeWiring, BreakerTransitionsAreEmittedOnTheBus) {
  crosscut::testing::ManualClock clock;
  auto rt = Runtime::from_string("breakers: {defaults: {failure_threshold: 1}}\n", "b.yaml",
                                 options(&clock));
  std::mutex mu;
  std::vector<std::string> seen;
  auto sub = rt->bus().on<crosscut::sdk::BreakerTransition>(
      [&](const crosscut::sdk::BreakerTransition& t) {
        std::lock_guard lock(mu);
        seen.push_back(t.key + ":" + std::string(crosscut::sdk::state_name(t.to)) + ":" + t.reason);
      });
  rt->breaker("a/b/c").record_failure();
  rt->breaker("a/b/c").reset();
  ASSERT_TRUE(rt->bus().drain(std::chrono::seconds(10)));
  std::lock_guard lock(mu);
  EXPECT_EQ(seen, (std::vector<std::string>{"a/b/c:OPEN:failure_threshold", "a/b/c:CLOSED:reset"}));
}
