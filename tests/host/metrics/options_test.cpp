// The `metrics` configuration section.
#include <gtest/gtest.h>

#include "config/option_validator.hpp"
#include "crosscut/counter.hpp"
#include "metrics/metrics_options.hpp"
#include "support/config_nodes.hpp"

namespace crosscut::testing {
namespace {

// What the runtime does with the section: the table's checks, then the reader.
metrics::MetricsOptions parse_metrics_options(const sdk::ConfigView& view) {
  sdk::ConfigNode node = view.node();
  config::validate_options(node, metrics::metrics_options_table().schema(),
                           {std::make_shared<const std::string>("crosscut.yaml"), "metrics"});
  return metrics::parse_metrics_options(sdk::ConfigView(&node, nullptr, "metrics"));
}

sdk::ConfigNode section(const std::vector<std::pair<std::string, std::string>>& entries) {
  sdk::ConfigNode n;
  n.kind = sdk::ConfigNode::Kind::map;
  n.mark = {10, 1};
  int line = 11;
  for (auto& [k, v] : entries) n.entries.emplace_back(k, scalar(v, line++, 3));
  return n;
}

sdk::ConfigView view_of(const sdk::ConfigNode& node) {
  return sdk::ConfigView(&node, std::make_shared<const std::string>("crosscut.yaml"), "metrics");
}

TEST(MetricsOptions, SchemaDeclaresEveryOptionWithItsDefault) {
  const auto& schema = metrics::metrics_options_table().schema();
  std::map<std::string, sdk::OptionSpec> by_key;
  for (const auto& s : schema) {
    EXPECT_FALSE(s.description.empty()) << s.key;
    by_key[s.key] = s;
  }
  EXPECT_EQ(by_key.at("topic").default_value, "ws.metrics");
  EXPECT_EQ(by_key.at("flush_interval").type, sdk::OptionType::duration);
  EXPECT_TRUE(by_key.at("flush_interval").positive);
  EXPECT_EQ(by_key.at("flush_interval").default_value, "60s");
  EXPECT_EQ(by_key.at("grace").default_value, "2s");
  EXPECT_TRUE(by_key.at("horizon").positive);
  EXPECT_EQ(by_key.at("max_buffered_bytes").type, sdk::OptionType::size);
  EXPECT_EQ(by_key.at("max_buffered_bytes").default_value, "64MiB");
  EXPECT_TRUE(by_key.count("sink"));
  // Every schema default parses back to the built-in default.
  sdk::ConfigNode defaults;
  defaults.kind = sdk::ConfigNode::Kind::map;
  for (const auto& s : schema)
    if (!s.default_value.empty()) defaults.entries.emplace_back(s.key, scalar(s.default_value, 0));
  auto from_schema = parse_metrics_options(view_of(defaults));
  metrics::MetricsOptions built_in;
  EXPECT_EQ(from_schema.topic, built_in.topic);
  EXPECT_EQ(from_schema.flush_interval, built_in.flush_interval);
  EXPECT_EQ(from_schema.grace, built_in.grace);
  EXPECT_EQ(from_schema.horizon, built_in.horizon);
  EXPECT_EQ(from_schema.max_buffered_bytes, built_in.max_buffered_bytes);
  EXPECT_EQ(from_schema.failure_threshold, built_in.failure_threshold);
}

TEST(MetricsOptions, ParsesValues) {
  auto node = section({{"sink", "kafka-main"},
                       {"topic", "md.metrics"},
                       {"flush_interval", "250ms"},
                       {"grace", "0s"},
                       {"horizon", "1h"},
                       {"max_buffered_bytes", "1MiB"},
                       {"failure_threshold", "2"}});
  auto o = parse_metrics_options(view_of(node));
  EXPECT_EQ(o.sink, "kafka-main");
  EXPECT_EQ(o.topic, "md.metrics");
  EXPECT_EQ(o.flush_interval, std::chrono::milliseconds(250));
  EXPECT_EQ(o.grace, std::chrono::nanoseconds::zero());
  EXPECT_EQ(o.horizon, std::chrono::hours(1));
  EXPECT_EQ(o.max_buffered_bytes.bytes, 1u << 20);
  EXPECT_EQ(o.failure_threshold, 2u);
}

TEST(MetricsOptions, ZeroIntervalIsAConfigErrorAtItsPosition) {
  auto node = section({{"topic", "x"}, {"flush_interval", "0s"}});
  try {
    parse_metrics_options(view_of(node));
    FAIL() << "accepted a zero flush_interval";
  } catch (const sdk::ConfigError& e) {
    EXPECT_EQ(std::string(e.what()),
              "crosscut.yaml:12:3: metrics.flush_interval: must be > 0 (got 0s)");
  }
  EXPECT_THROW(parse_metrics_options(view_of(section({{"horizon", "0ms"}}))), sdk::ConfigError);
  EXPECT_THROW(parse_metrics_options(view_of(section({{"max_buffered_bytes", "1KiB"}}))),
               sdk::ConfigError);
  EXPECT_THROW(parse_metrics_options(view_of(section({{"topic", ""}}))), sdk::ConfigError);
  EXPECT_THROW(parse_metrics_options(view_of(section({{"grace", "soon"}}))), sdk::ConfigError);
}

}  // namespace
}  // namespace crosscut::testing

namespace crosscut::testing {
namespace {

TEST(CoarseSystemClock, AgreesWithTheSystemClockToWithinATick) {
  CoarseSystemClock coarse;
  auto before = std::chrono::system_clock::now();
  auto t = coarse.now();
  auto after = std::chrono::system_clock::now();
  // The coarse clock lags by at most a kernel tick (<= 10 ms at HZ=100) and never leads.
  EXPECT_LE(t, after);
  EXPECT_GE(t, before - std::chrono::milliseconds(50));
}

}  // namespace
}  // namespace crosscut::testing
