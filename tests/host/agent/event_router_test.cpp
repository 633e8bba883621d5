// The agent's event router against a real runtime: each event kind reaches its component,
// and every kind of bad line is counted and skipped.
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <fstream>

#include "agent/event_router.hpp"
#include "agent/market_data_mapping.hpp"
#include "config/yaml_tree_loader.hpp"
#include "host/metrics/metrics_test_support.hpp"
#include "support/process.hpp"
#include "support/test_host.hpp"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define CROSSCUT_TEST_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define CROSSCUT_TEST_SANITIZED 1
#endif
#endif

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

// The resident set of this process, in bytes.
std::size_t rss_bytes() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stoul(line.substr(6)) * 1024;
  return 0;
}

// The router's counting path through a metrics service of the test's own, whose counters are
// released once drained and idle.
class ServiceCounting final : public crosscut::agent::MessageCounting {
 public:
  explicit ServiceCounting(crosscut::metrics::MetricsService& service) : service_(service) {}
  bool count(const crosscut::sdk::Target& target, std::string_view symbol,
             std::optional<std::int64_t> event_time_ms) override {
    return service_.count(target, symbol, event_time_ms);
  }

 private:
  crosscut::metrics::MetricsService& service_;
};

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

TEST(EventRouter, TargetFieldsLongerThanTheLimitMakeBadLines) {
  Fixture f;
  EventRouter router(*f.rt, f.stats, *f.bad, std::nullopt);
  const std::string ok(crosscut::kMaxTargetFieldBytes, 'x');
  const std::string too_long(crosscut::kMaxTargetFieldBytes + 1, 'x');
  auto message = [](const std::string& exchange, const std::string& region) {
    return R"({"event":"message","target":{"exchange":")" + exchange + R"(","region":")" + region +
           R"(","request_type":"ticker"},"symbol":"BTC"})";
  };
  router.on_line(message(ok, ok), kWhere);
  router.on_line(message(too_long, "korea"), kWhere);
  router.on_line(message("upbit", std::string(9000, 'r')), kWhere);
  router.on_line(R"({"event":"error","kind":"ws_connection","target":{"exchange":")" + too_long +
                     R"(","region":"korea","request_type":"ticker"}})",
                 kWhere);
  router.on_message({"upbit", too_long, "ticker"}, "BTC", std::nullopt);
  EXPECT_EQ(f.stats.messages.load(), 1u);
  EXPECT_EQ(f.stats.errors.load(), 0u);
  EXPECT_EQ(f.stats.bad_lines.load(), 4u);
  auto lines = f.published();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0]["value"]["batch"]["items"][0]["total"].GetInt(), 1);
}

TEST(EventRouter, MessagesCountThroughTheGivenCountingPath) {
  Fixture f;
  crosscut::testing::MetricsFixture m;
  crosscut::testing::SummingSink sink;
  crosscut::metrics::MetricsService service(crosscut::metrics::MetricsOptions{}, &sink, m.clock,
                                            m.bus, m.log, m.error_callback());
  ServiceCounting counting(service);
  EventRouter router(*f.rt, f.stats, *f.bad, std::nullopt, counting);
  router.on_line(
      R"({"event":"message","target":{"exchange":"upbit","region":"korea","request_type":"ticker"},"symbol":"btc"})",
      kWhere);
  router.on_message({"upbit", "korea", "orderbook"}, "ETH", m.clock.now_ms());
  EXPECT_EQ(f.stats.messages.load(), 2u);
  EXPECT_EQ(service.stats().counters_live, 2u);
  ASSERT_TRUE(service.shutdown(crosscut::testing::in_seconds(10)));
  EXPECT_EQ(sink.total(), 2u);
  EXPECT_EQ(sink.by_key(),
            (std::map<std::string, std::uint64_t>{{"BTC_COUNT", 1}, {"ETH_COUNT", 1}}));
  EXPECT_TRUE(f.published().empty()) << "nothing went through the runtime's own counters";
}

// A million distinct targets over an hour of simulated time, through the router as the agent
// reads them: the counters of targets that stopped sending are released, so memory stays
// flat, and every message is published.
TEST(EventRouter, AMillionDistinctTargetsKeepMemoryBounded) {
#ifdef CROSSCUT_TEST_SANITIZED
  GTEST_SKIP() << "the resident set means nothing under a sanitizer";
#endif
  Fixture f;
  crosscut::testing::MetricsFixture m;
  crosscut::testing::SummingSink sink;
  crosscut::metrics::MetricsService service(crosscut::metrics::MetricsOptions{}, &sink, m.clock,
                                            m.bus, m.log, m.error_callback());
  ServiceCounting counting(service);
  EventRouter router(*f.rt, f.stats, *f.bad, std::nullopt, counting);
  constexpr std::size_t kTargets = 1'000'000;
  constexpr std::size_t kPerSecond = kTargets / 3600 + 1;
  const std::size_t rss_before = rss_bytes();
  std::size_t rss_peak = rss_before;
  std::size_t max_live = 0;
  std::string line;
  std::size_t next = 0;
  for (int second = 0; next < kTargets; ++second) {
    for (std::size_t k = 0; k < kPerSecond && next < kTargets; ++k, ++next) {
      line = R"({"event":"message","target":{"exchange":"exchange-)" + std::to_string(next % 50) +
             R"(","region":"region-)" + std::to_string(next) +
             R"(","request_type":"ticker"},"symbol":"KRW-BTC"})";
      router.on_line(line, {"socket", next + 1});
    }
    m.clock.advance(std::chrono::seconds(1));
    if (second % 60 == 59) {  // the default flush_interval
      service.flush_due();
      max_live = std::max(max_live, service.stats().counters_live);
      rss_peak = std::max(rss_peak, rss_bytes());
    }
  }
  ASSERT_TRUE(service.shutdown(crosscut::testing::in_seconds(30)));
  rss_peak = std::max(rss_peak, rss_bytes());
  const double growth_mib = static_cast<double>(rss_peak - rss_before) / (1 << 20);
  std::cout << "[ measured ] resident set growth over 1,000,000 targets: " << growth_mib
            << " MiB (at most " << max_live << " counters live)\n";
  EXPECT_LT(rss_peak - rss_before, std::size_t{200} << 20);
  EXPECT_LE(max_live, 5 * 60 * kPerSecond);
  EXPECT_EQ(f.stats.bad_lines.load(), 0u);
  EXPECT_EQ(f.stats.messages.load(), kTargets);
  EXPECT_EQ(sink.total(), kTargets);
  EXPECT_EQ(service.stats().counters_released + service.stats().counters_live, kTargets);
}

// The user's breaker case: outcomes with distinct 9 KiB resource names are refused by the
// registry and leave no breaker behind.
TEST(EventRouter, OutcomesWithHugeResourceNamesLeaveNoBreakers) {
#ifdef CROSSCUT_TEST_SANITIZED
  GTEST_SKIP() << "the resident set means nothing under a sanitizer";
#endif
  Fixture f;
  EventRouter router(*f.rt, f.stats, *f.bad, std::nullopt);
  const std::string name(9 * 1024, 'n');
  const std::size_t rss_before = rss_bytes();
  std::string line;
  for (int i = 0; i < 100'000; ++i) {
    line =
        R"({"event":"outcome","resource":")" + std::to_string(i) + name + R"(","success":false})";
    router.on_line(line, kWhere);
  }
  const std::size_t rss_after = rss_bytes();
  std::cout << "[ measured ] resident set growth over 100,000 huge resource names: "
            << static_cast<double>(rss_after - std::min(rss_after, rss_before)) / (1 << 20)
            << " MiB\n";
  EXPECT_EQ(f.stats.outcomes.load(), 100'000u);
  EXPECT_TRUE(f.rt->breaker_keys().empty());
  EXPECT_LT(rss_after, rss_before + (std::size_t{50} << 20));
}
