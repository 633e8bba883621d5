// Declarative rules inside the real dispatcher: the documented example end to end.
#include <gtest/gtest.h>

#include "crosscut/errors.hpp"
#include "host/errors/errors_test_support.hpp"
#include "support/config_nodes.hpp"
#include "yaml_rules/declarative_rule.hpp"

namespace crosscut::yaml_rules {
namespace {

using errors_test::MemorySink;
using errors_test::parse;
using testing::map;
using testing::scalar;

// A rule built the way the plugin's factory builds it.
DeclarativeRule rule_from(const sdk::ConfigNode& node, std::shared_ptr<const std::string> file,
                          const std::string& path, sdk::HostContext& host) {
  const sdk::ConfigView view(&node, std::move(file), path);
  return DeclarativeRule(DeclarativeRule::options_table().read(view), view, host);
}

TEST(DeclarativeRulesInDispatcher, RateLimitedExampleFromTheDesign) {
  const auto file = std::make_shared<const std::string>("crosscut.yaml");
  testing::TestHost host;
  auto rate_limited = map({{"name", scalar("rate-limited")},
                           {"match", map({{"kind", scalar("ws_connection")},
                                          {"message", scalar("(?i)429|too many requests")},
                                          {"exchange", scalar("upbit")}})},
                           {"then", map({{"kind", scalar("rate_limited")},
                                         {"severity", scalar("warning")},
                                         {"breaker", scalar("trip")},
                                         {"publish", scalar("true")}})}});
  auto quiet = map({{"name", scalar("heartbeats-quiet")},
                    {"match", map({{"kind", scalar("ws_heartbeat_timeout")}})},
                    {"then", map({{"severity", scalar("info")}, {"breaker", scalar("ignore")}})}});
  DeclarativeRule first = rule_from(rate_limited, file, "errors.rules[0]", host);
  DeclarativeRule second = rule_from(quiet, file, "errors.rules[1]", host);

  testing::CapturingLogger log("errors");
  MemorySink sink;
  std::vector<std::string> tripped;
  ErrorsOptions options;
  options.sink = "kafka-main";
  options.utc_offset = std::chrono::hours(9);
  ErrorDispatcher dispatcher(options,
                             DispatcherParts{log,
                                             host.manual_clock(),
                                             {&first, &second},
                                             &sink,
                                             nullptr,
                                             [&](const std::string& key) {
                                               tripped.push_back(key);
                                               return std::optional(sdk::BreakerState::closed);
                                             },
                                             ServiceInfo::current("collector-upbit")});

  const sdk::Target upbit{"upbit", "korea", "ticker"};
  dispatcher.dispatch(std::runtime_error("HTTP 429 Too Many Requests"), "ws_connection", upbit);
  dispatcher.dispatch(std::runtime_error("no pong for 30s"), "ws_heartbeat_timeout", upbit);
  dispatcher.dispatch(std::runtime_error("connection refused"), "ws_connection", upbit);

  const auto records = sink.records();
  ASSERT_EQ(records.size(), 3u);
  const auto a = parse(records[0].payload);
  EXPECT_STREQ(a["rule"].GetString(), "rate-limited");
  EXPECT_STREQ(a["kind"].GetString(), "rate_limited");
  EXPECT_STREQ(a["severity"].GetString(), "warning");
  EXPECT_STREQ(a["breaker"]["state"].GetString(), "CLOSED");
  const auto b = parse(records[1].payload);
  EXPECT_STREQ(b["rule"].GetString(), "heartbeats-quiet");
  EXPECT_STREQ(b["severity"].GetString(), "info");
  EXPECT_TRUE(b["breaker"].IsNull());
  const auto c = parse(records[2].payload);
  EXPECT_TRUE(c["rule"].IsNull());
  EXPECT_STREQ(c["kind"].GetString(), "ws_connection");
  EXPECT_GT(c["service"]["pid"].GetInt64(), 0);
  EXPECT_EQ(tripped.size(), 2u);
}

}  // namespace
}  // namespace crosscut::yaml_rules
