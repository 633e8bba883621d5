// The agent's event router against a real runtime: each event kind reaches its component,
// and every kind of bad line is counted and skipped.
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <fstream>

#include "agent/event_router.hpp"
#include "agent/market_data_mapping.hpp"
#include "config/yaml_tree_loader.hpp"
#include "support/process.hpp"
#include "support/test_host.hpp"

using crosscut::Runtime;
using crosscut::agent::AgentStats;
using crosscut::agent::BadLineReporter;
using crosscut::agent::EventRouter;

namespace {

struct Fixture {
  crosscut::testing::TempDir dir;
  crosscut::testing::ManualClock clock{1'737'619'200'000};
  std::filesystem::path records = dir.path() / "records.ndjson";
  std::unique_ptr<Runtime> rt;
  AgentStats stats;
  std::unique_ptr<BadLineReporter> bad;

  Fixture() {
    crosscut::RuntimeOptions o;
    o.plugin_paths = {CROSSCUT_TEST_PLUGIN_DIR};
    o.clock = &clock;
    o.quiet = true;
    rt = Runtime::from_string("sinks:\n  out: {type: file, path: \"" + records.string() +
                                  "\"}\nerrors: {sink: out}\nmetrics: {sink: out}\n"
                                  "breakers: {defaults: {failure_threshold: 2}}\n",
                              "agent.yaml", o);
    bad = std::make_unique<BadLineReporter>(rt->logger("agent.input"), 10);
  }

  std::vector<rapidjson::Document> published() {
    rt->shutdown();
    std::vector<rapidjson::Document> out;
    std::ifstream in(records);
    std::string line;
    while (std::getline(in, line)) {
      out.emplace_back();
      out.back().Parse(line.c_str());
    }
    return out;
  }
};

const crosscut::sdk::InputPosition kWhere{"test", 1};

}  // namespace

TEST(EventRouter, RoutesEachEventKind) {
  Fixture f;
  EventRouter router(*f.rt, f.stats, *f.bad, std::nullopt);
  const std::string target =
      R"("target":{"exchange":"upbit","region":"korea","request_type":"ticker"})";
  router.on_line(R"({"event":"message",)" + target + R"(,"symbol":"BTC","ts_ms":1737619200123})",
                 kWhere);
  router.on_line(R"({"event":"message",)" + target + R"(,"symbol":"eth"})", kWhere);
  router.on_line(R"({"event":"message",)" + target + "}", kWhere);
  router.on_line(
      R"({"event":"error","kind":"ws_connection","exception":{"type":"ConnectionError","message":"refused"},)" +
          target + R"(,"context":{"url":"wss://x"},"correlation_id":"c-1"})",
      kWhere);
  router.on_line(R"({"event":"outcome","resource":"a/b/c","success":false})", kWhere);
  router.on_line(R"({"event":"outcome","resource":"a/b/c","success":false})", kWhere);
  router.on_line(
      R"({"event":"log","level":"info","logger":"collector","message":"hello","extra":{"n":1}})",
      kWhere);
  EXPECT_EQ(f.stats.bad_lines.load(), 0u);
  EXPECT_EQ(f.stats.messages.load(), 3u);
  EXPECT_EQ(f.stats.errors.load(), 1u);
  EXPECT_EQ(f.stats.outcomes.load(), 2u);
  EXPECT_EQ(f.stats.logs.load(), 1u);
  EXPECT_EQ(f.rt->breaker("a/b/c").state(), crosscut::sdk::BreakerState::open);

  auto lines = f.published();
  ASSERT_EQ(lines.size(), 2u);  // the error report, then the minute batch at shutdown
  EXPECT_STREQ(lines[0]["topic"].GetString(), "ws.error");
  EXPECT_STREQ(lines[0]["value"]["exception"]["type"].GetString(), "ConnectionError");
  EXPECT_STREQ(lines[0]["value"]["correlation_id"].GetString(), "c-1");
  EXPECT_STREQ(lines[0]["value"]["context"]["url"].GetString(), "wss://x");
  const auto& items = lines[1]["value"]["batch"]["items"];
  ASSERT_EQ(items.Size(), 1u);
  EXPECT_EQ(items[0]["total"].GetInt(), 3);
  EXPECT_EQ(items[0]["details"]["BTC_COUNT"].GetInt(), 1);
  EXPECT_EQ(items[0]["details"]["ETH_COUNT"].GetInt(), 1);
}

TEST(EventRouter, BadLinesAreCountedAndSkipped) {
  Fixture f;
  EventRouter router(*f.rt, f.stats, *f.bad, std::nullopt);
  const char* bad_lines[] = {
      "not json",
      "[1,2,3]",
      R"({"no_event":1})",
      R"({"event":7})",
      R"({"event":"teleport"})",
      R"({"event":"message","symbol":"BTC"})",
      R"({"event":"message","target":{"exchange":"upbit"}})",
      R"({"event":"message","target":{"exchange":"u","region":"k","request_type":"t"},"ts_ms":"soon"})",
      R"({"event":"message","target":"upbit"})",
      R"({"event":"outcome","resource":"a/b/c"})",
      R"({"event":"outcome","resource":"a/b/c","success":"no"})",
      R"({"event":"outcome","success":true})",
      R"({"event":"log","level":"loud","message":"x"})",
      R"({"event":"log","level":"info"})",
      R"({"event":"error","exception":"boom"})",
      R"({"event":"error","context":[1]})",
      "{\"event\":\"log\",\"level\":\"info\",\"message\":\"\xff\xfe\"",
  };
  for (const char* l : bad_lines) router.on_line(l, kWhere);
  router.on_line(std::string(EventRouter::kMaxLine + 1, 'x'), kWhere);
  EXPECT_EQ(f.stats.bad_lines.load(), std::size(bad_lines) + 1);
  EXPECT_EQ(f.stats.messages.load() + f.stats.errors.load() + f.stats.outcomes.load() +
                f.stats.logs.load(),
            0u);
  EXPECT_EQ(f.rt->breaker("a/b/c").state(), crosscut::sdk::BreakerState::closed);
}

TEST(EventRouter, ErrorWithMissingFieldsStillYieldsADto) {
  Fixture f;
  EventRouter router(*f.rt, f.stats, *f.bad, std::nullopt);
  router.on_line(R"({"event":"error"})", kWhere);
  auto lines = f.published();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_STREQ(lines[0]["value"]["kind"].GetString(), "unknown");
  EXPECT_STREQ(lines[0]["value"]["target"]["exchange"].GetString(), "unknown");
}

TEST(EventRouter, MarketDataInputsCountRawExchangeMessages) {
  Fixture f;
  auto tree = crosscut::config::parse_yaml_tree(
      "target: {exchange: upbit, region: korea, request_type: ticker}\nsymbol_field: code\n"
      "time_field: timestamp\nsymbol_regex: \"^KRW-(.+)$\"\n",
      "md.yaml");
  crosscut::agent::MarketDataMapping mapping(
      crosscut::sdk::ConfigView(&tree.root, tree.file, "market_data"));
  EventRouter router(*f.rt, f.stats, *f.bad, std::move(mapping));
  router.on_line(R"({"type":"ticker","code":"KRW-BTC","timestamp":1737619200007})", kWhere);
  router.on_line(R"({"type":"ticker","code":"KRW-BTC","timestamp":1737619260007})", kWhere);
  router.on_line(R"({"type":"ticker","code":"KRW-XRP","timestamp":1737619201007})", kWhere);
  router.on_line(R"({"type":"ticker","code":"USDT-BTC","timestamp":1737619201007})",
                 kWhere);  // no match
  router.on_line(R"({"type":"ticker","code":"KRW-ETH","timestamp":"late"})", kWhere);
  EXPECT_EQ(f.stats.messages.load(), 3u);
  EXPECT_EQ(f.stats.bad_lines.load(), 2u);
  auto lines = f.published();
  ASSERT_EQ(lines.size(), 1u);
  const auto& items = lines[0]["value"]["batch"]["items"];
  ASSERT_EQ(items.Size(), 2u);
  EXPECT_EQ(items[0]["details"]["BTC_COUNT"].GetInt(), 1);
  EXPECT_EQ(items[0]["details"]["XRP_COUNT"].GetInt(), 1);
  EXPECT_EQ(items[1]["details"]["BTC_COUNT"].GetInt(), 1);
}

TEST(MarketDataMapping, RefusesARegexWithoutOneGroup) {
  auto tree = crosscut::config::parse_yaml_tree(
      "target: {exchange: u, region: r, request_type: t}\nsymbol_field: code\ntime_field: ts\n"
      "symbol_regex: \"^KRW-.+$\"\n",
      "md.yaml");
  try {
    crosscut::agent::MarketDataMapping m(
        crosscut::sdk::ConfigView(&tree.root, tree.file, "market_data"));
    FAIL() << "a regex without a capture group was accepted";
  } catch (const crosscut::sdk::ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find(
                  "md.yaml:4:15: market_data.symbol_regex: needs exactly one capture group"),
              std::string::npos)
        << e.what();
  }
}
