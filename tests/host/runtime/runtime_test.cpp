#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <thread>

#include "crosscut/runtime.hpp"
#include "support/process.hpp"
#include "support/test_host.hpp"

using crosscut::Runtime;
using crosscut::RuntimeOptions;
using crosscut::sdk::BreakerOp;
using crosscut::sdk::BreakerState;

namespace {

const std::string kFixtureDir = std::string(CROSSCUT_TEST_FIXTURE_PLUGIN_DIR) + "/fixture_good";

RuntimeOptions options_with_fixtures(const crosscut::sdk::Clock* clock = nullptr) {
  RuntimeOptions o;
  o.plugin_paths = {CROSSCUT_TEST_PLUGIN_DIR, kFixtureDir};
  o.clock = clock;
  return o;
}

}  // namespace

// The agent's final health record reads the totals after the registry is gone.
TEST(Runtime, BreakerTotalsOutliveTheRegistry) {
  auto rt = Runtime::from_string("", "empty.yaml", options_with_fixtures());
  rt->breaker(std::string(300, 'k')).record_failure();  // over the key length limit: refused
  EXPECT_EQ(rt->breaker_totals().keys_too_long, 1u);
  rt->shutdown();
  EXPECT_EQ(rt->breaker_totals().keys_too_long, 1u);
}

TEST(Runtime, EmptyConfigurationRunsOnTheMemoryBreakerWithTheSeedDefaults) {
  auto rt = Runtime::from_string("", "empty.yaml", options_with_fixtures());
  auto b = rt->breaker("upbit/korea/ticker");
  EXPECT_EQ(b.policy().failure_threshold, 5u);
  EXPECT_EQ(b.policy().success_threshold, 2u);
  EXPECT_EQ(b.policy().timeout, std::chrono::seconds(60));
  EXPECT_EQ(b.policy().half_open_max_calls, 3u);
  EXPECT_EQ(b.policy().sliding_window, std::chrono::seconds(300));
  for (int i = 0; i < 4; ++i)
    EXPECT_EQ(b.apply(BreakerOp::failure, 1000 + i).state, BreakerState::closed);
  auto r = b.apply(BreakerOp::failure, 1010);
  EXPECT_EQ(r.state, BreakerState::open);
  ASSERT_TRUE(r.transition.has_value());
  EXPECT_FALSE(b.apply(BreakerOp::acquire, 1020).allowed);
}

TEST(Runtime, OverridesApplyPerResource) {
  auto rt = Runtime::from_string(
      "breakers:\n  defaults: {failure_threshold: 4}\n  overrides:\n    \"a/b/c\": "
      "{failure_threshold: 2}\n",
      "o.yaml", options_with_fixtures());
  EXPECT_EQ(rt->breaker("a/b/c").policy().failure_threshold, 2u);
  EXPECT_EQ(rt->breaker("a/b/c").policy().success_threshold, 2u);  // rest from defaults
  EXPECT_EQ(rt->breaker("x/y/z").policy().failure_threshold, 4u);
  auto b = rt->breaker("a/b/c");
  b.apply(BreakerOp::failure, 10);
  EXPECT_EQ(b.apply(BreakerOp::failure, 11).state, BreakerState::open);
}

TEST(Runtime, BreakerCallThrowsWhenOpenAndRecordsOutcomes) {
  crosscut::testing::ManualClock clock;
  auto rt = Runtime::from_string("breakers: {defaults: {failure_threshold: 2}}\n", "c.yaml",
                                 options_with_fixtures(&clock));
  auto b = rt->breaker("k/k/k");
  EXPECT_EQ(b.call([] { return 7; }), 7);
  for (int i = 0; i < 2; ++i)
    EXPECT_THROW(b.call([]() -> int { throw std::runtime_error("boom"); }), std::runtime_error);
  EXPECT_EQ(b.state(), BreakerState::open);
  EXPECT_THROW(b.call([] {}), crosscut::CircuitOpenError);
  clock.advance(std::chrono::seconds(61));
  EXPECT_EQ(b.state(), BreakerState::half_open);
  b.call([] {});
  b.call([] {});
  EXPECT_EQ(b.state(), BreakerState::closed);
}

TEST(Runtime, BreakerCallMeasuresTheCallForSlowCallRules) {
  auto rt = Runtime::from_string(
      "breakers: {defaults: {mode: rate, minimum_calls: 3, slow_call_duration: 20ms, "
      "slow_call_rate: 1}}\n",
      "c.yaml", options_with_fixtures());
  auto b = rt->breaker("k/k/k");
  // Each call takes at least 25ms of real time: every one of them is slow.
  for (int i = 0; i < 3; ++i)
    b.call([] { std::this_thread::sleep_for(std::chrono::milliseconds(25)); });
  auto r = b.apply(crosscut::sdk::BreakerOp::state);
  EXPECT_EQ(r.state, BreakerState::open);
  EXPECT_EQ(r.slow_calls, 3u);
  EXPECT_EQ(r.calls, 3u);
}

TEST(Runtime, BuildsNamedRecordSinksFromPlugins) {
  auto rt = Runtime::from_string("sinks:\n  main: {type: fixture_null, count: 3}\n", "s.yaml",
                                 options_with_fixtures());
  auto* sink = rt->record_sink("main");
  ASSERT_NE(sink, nullptr);
  EXPECT_EQ(rt->record_sink("other"), nullptr);
  crosscut::sdk::Record record;
  record.topic = "t";
  record.payload = "{}";
  EXPECT_TRUE(sink->publish(record));
  EXPECT_TRUE(sink->flush(std::chrono::steady_clock::now() + std::chrono::seconds(10)));
  EXPECT_EQ(sink->stats().published, 1u);
  EXPECT_EQ(sink->stats().delivered, 1u);
  EXPECT_EQ(rt->host().record_sink("main"), sink);
}

TEST(Runtime, EffectiveConfigurationFillsDefaultsAndRedactsSecrets) {
  setenv("CROSSCUT_TEST_TOKEN", "hunter2-secret-value", 1);
  auto rt = Runtime::from_string(
      "sinks:\n  main:\n    type: fixture_null\n    token: \"${CROSSCUT_TEST_TOKEN}\"\n"
      "    properties: {sasl.password: pa55w0rd, client.id: me}\n",
      "p.yaml", options_with_fixtures());
  std::string printed = rt->effective_config();
  EXPECT_EQ(printed.find("hunter2-secret-value"), std::string::npos) << printed;
  EXPECT_EQ(printed.find("pa55w0rd"), std::string::npos) << printed;
  EXPECT_NE(printed.find("client.id: me"), std::string::npos) << printed;
  EXPECT_NE(printed.find("<redacted>"), std::string::npos) << printed;
  EXPECT_NE(printed.find("failure_threshold: 5"), std::string::npos) << printed;
  EXPECT_NE(printed.find("interval: 1s"), std::string::npos) << printed;
  EXPECT_NE(printed.find("type: memory"), std::string::npos) << printed;
  unsetenv("CROSSCUT_TEST_TOKEN");
}

TEST(Runtime, PluginsLoadListLimitsWhatIsLoaded) {
  auto rt = Runtime::from_string("plugins: {load: [memory_breaker]}\n", "l.yaml",
                                 options_with_fixtures());
  auto plugins = rt->plugins();
  ASSERT_EQ(plugins.size(), 1u);
  EXPECT_EQ(plugins[0].name, "memory_breaker");
  EXPECT_THROW(
      Runtime::from_string("plugins: {load: [memory_breaker]}\nsinks: {m: {type: fixture_null}}\n",
                           "l.yaml", options_with_fixtures()),
      crosscut::ConfigurationError);
}

TEST(ValidateCommand, PrintsTheEffectiveConfigurationWithSecretsRedacted) {
  crosscut::testing::TempDir dir;
  auto file =
      dir.write("c.yaml", "sinks:\n  main: {type: fixture_null, token: \"${TOKEN_FOR_TEST}\"}\n");
  auto r = crosscut::testing::run_crosscut(
      {"validate", "-c", file.string(), "--print", "--path", kFixtureDir}, "",
      {{"TOKEN_FOR_TEST", "s3cr3t-t0ken"}});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.find("s3cr3t-t0ken"), std::string::npos);
  EXPECT_NE(r.out.find("token: <redacted>"), std::string::npos) << r.out;
}

TEST(Runtime, PasswordsInsideUrlsAreRedactedWhenPrinted) {
  auto rt = Runtime::from_string("service: {name: \"redis://app:topsecret@10.0.0.1:6379/0\"}\n",
                                 "u.yaml", options_with_fixtures());
  std::string printed = rt->effective_config();
  EXPECT_EQ(printed.find("topsecret"), std::string::npos) << printed;
  EXPECT_NE(printed.find("redis://app:<redacted>@10.0.0.1:6379/0"), std::string::npos) << printed;
}

TEST(ValidateCommand, QuickstartConfigurationIsValid) {
  auto r = crosscut::testing::run_crosscut(
      {"validate", "-c", std::string(CROSSCUT_TEST_SOURCE_DIR) + "/configs/quickstart.yaml"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
}
