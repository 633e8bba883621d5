// Rule evaluation: order, every decision field, failing rules, the bus emission.
#include <gtest/gtest.h>

#include <atomic>

#include "bus/async_event_bus.hpp"
#include "errors_test_support.hpp"

namespace crosscut {
namespace {

using errors_test::LambdaRule;
using errors_test::MemorySink;
using errors_test::parse;
using errors_test::upbit;
using std::chrono_literals::operator""s;

struct Fixture : errors_test::DispatcherHarness {
  explicit Fixture(std::vector<const sdk::ExceptionRule*> rules, sdk::EventBus* bus = nullptr)
      : DispatcherHarness({.rules = std::move(rules),
                           .breaker =
                               [this](const std::string& key) {
                                 tripped.push_back(key);
                                 return std::optional(sdk::BreakerState::closed);
                               },
                           .bus = bus}) {}
  std::vector<std::string> tripped;
};

sdk::Decision decision_kind(std::string kind) {
  sdk::Decision d;
  d.kind = std::move(kind);
  return d;
}

TEST(ErrorRules, FirstMatchingRuleWins) {
  std::vector<std::string> evaluated;
  LambdaRule never("never", [&](const sdk::ErrorView&) -> std::optional<sdk::Decision> {
    evaluated.push_back("never");
    return std::nullopt;
  });
  LambdaRule first("first", [&](const sdk::ErrorView&) -> std::optional<sdk::Decision> {
    evaluated.push_back("first");
    return decision_kind("rate_limited");
  });
  LambdaRule second("second", [&](const sdk::ErrorView&) -> std::optional<sdk::Decision> {
    evaluated.push_back("second");
    return decision_kind("other");
  });
  Fixture f({&never, &first, &second});
  f.dispatcher->dispatch(std::runtime_error("429"), "ws_connection", upbit());
  EXPECT_EQ(evaluated, (std::vector<std::string>{"never", "first"}));
  const auto d = parse(f.sink.records().at(0).payload);
  EXPECT_STREQ(d["rule"].GetString(), "first");
  EXPECT_STREQ(d["kind"].GetString(), "rate_limited");
}

TEST(ErrorRules, RulesSeeTheNormalisedError) {
  std::string seen;
  LambdaRule look("look", [&](const sdk::ErrorView& e) -> std::optional<sdk::Decision> {
    seen = std::string(e.kind) + "|" + e.exception.type + "|" + e.exception.message + "|" +
           e.target.resource_key() + "|" + std::to_string(e.context.find("attempt")->as_int());
    return std::nullopt;
  });
  Fixture f({&look});
  f.dispatcher->dispatch(std::out_of_range("no such symbol"), "ws_subscription", upbit(),
                         sdk::Value::object({{"attempt", 2}}));
  EXPECT_EQ(seen, "ws_subscription|std::out_of_range|no such symbol|upbit/korea/ticker|2");
}

TEST(ErrorRules, NoMatchAppliesDefaults) {
  Fixture f({});
  f.dispatcher->dispatch(std::runtime_error("x"), "kafka_producer", upbit());
  const auto d = parse(f.sink.records().at(0).payload);
  EXPECT_STREQ(d["kind"].GetString(), "kafka_producer");
  EXPECT_STREQ(d["severity"].GetString(), "error");
  EXPECT_TRUE(d["rule"].IsNull());
  EXPECT_EQ(f.tripped, (std::vector<std::string>{"upbit/korea/ticker"}));
  EXPECT_STREQ(d["breaker"]["state"].GetString(), "CLOSED");
}

TEST(ErrorRules, SeverityDecisionIsPublishedAndLogged) {
  for (auto severity : {sdk::Severity::debug, sdk::Severity::info, sdk::Severity::warning,
                        sdk::Severity::error, sdk::Severity::critical}) {
    LambdaRule rule("sev", [&](const sdk::ErrorView&) -> std::optional<sdk::Decision> {
      sdk::Decision d;
      d.severity = severity;
      return d;
    });
    Fixture f({&rule});
    f.dispatcher->dispatch(std::runtime_error("x"), "ws_connection", upbit());
    const auto d = parse(f.sink.records().at(0).payload);
    EXPECT_EQ(d["severity"].GetString(), sdk::severity_name(severity));
    const auto logs = f.log.records();
    ASSERT_EQ(logs.size(), 1u);
    EXPECT_EQ(static_cast<int>(logs[0].level), static_cast<int>(severity));
  }
}

TEST(ErrorRules, BreakerIgnoreRecordsNoFailureAndPublishesNullBreaker) {
  LambdaRule rule("ignore", [](const sdk::ErrorView&) -> std::optional<sdk::Decision> {
    sdk::Decision d;
    d.breaker = sdk::BreakerAction::ignore;
    return d;
  });
  Fixture f({&rule});
  f.dispatcher->dispatch(std::runtime_error("x"), "ws_connection", upbit());
  EXPECT_TRUE(f.tripped.empty());
  EXPECT_TRUE(parse(f.sink.records().at(0).payload)["breaker"].IsNull());
}

TEST(ErrorRules, PublishFalseStillTripsAndEmitsButDoesNotPublish) {
  testing::CapturingLogger bus_log("bus");
  AsyncEventBus bus({}, bus_log);
  std::atomic<int> events{0};
  std::string kind_seen;
  auto sub = bus.on<sdk::ErrorEvent>([&](const sdk::ErrorEvent& e) {
    kind_seen = e.kind;
    ++events;
  });
  LambdaRule rule("quiet", [](const sdk::ErrorView&) -> std::optional<sdk::Decision> {
    sdk::Decision d;
    d.publish = false;
    d.kind = "heartbeat";
    return d;
  });
  Fixture f({&rule}, &bus);
  f.dispatcher->dispatch(std::runtime_error("x"), "ws_heartbeat_timeout", upbit());
  ASSERT_TRUE(bus.drain(30s));
  EXPECT_TRUE(f.sink.records().empty());
  EXPECT_EQ(f.tripped.size(), 1u);
  EXPECT_EQ(events.load(), 1);
  EXPECT_EQ(kind_seen, "heartbeat");
  EXPECT_EQ(f.dispatcher->stats().not_published, 1u);
}

TEST(ErrorRules, SuppressForDecisionHoldsDuplicates) {
  LambdaRule rule("dedupe", [](const sdk::ErrorView&) -> std::optional<sdk::Decision> {
    sdk::Decision d;
    d.suppress_for = std::chrono::seconds(10);
    return d;
  });
  Fixture f({&rule});
  for (int i = 0; i < 5; ++i) f.dispatcher->dispatch(std::runtime_error("x"), "k", upbit());
  EXPECT_EQ(f.sink.records().size(), 1u);
  EXPECT_EQ(f.dispatcher->stats().suppressed, 4u);
  EXPECT_EQ(f.tripped.size(), 5u);  // every failure still counts for the breaker
}

TEST(ErrorRules, ThrowingRuleIsLoggedCountedAndSkipped) {
  LambdaRule broken("broken", [](const sdk::ErrorView&) -> std::optional<sdk::Decision> {
    throw std::runtime_error("rule bug");
  });
  LambdaRule next("next", [](const sdk::ErrorView&) -> std::optional<sdk::Decision> {
    return decision_kind("classified");
  });
  Fixture f({&broken, &next});
  f.dispatcher->dispatch(std::runtime_error("x"), "k", upbit());
  EXPECT_EQ(f.dispatcher->stats().rule_failures, 1u);
  EXPECT_STREQ(parse(f.sink.records().at(0).payload)["rule"].GetString(), "next");
  bool logged = false;
  for (const auto& r : f.log.records())
    if (r.message.find("exception rule threw") != std::string::npos) logged = true;
  EXPECT_TRUE(logged);
}

TEST(ErrorRules, BreakerRecorderThatThrowsIsCountedAndTheErrorStillPublished) {
  testing::CapturingLogger log("errors");
  testing::ManualClock clock;
  MemorySink sink;
  ErrorsOptions options;
  ErrorDispatcher dispatcher(
      options, DispatcherParts{log,
                               clock,
                               {},
                               &sink,
                               nullptr,
                               [](const std::string&) -> std::optional<sdk::BreakerState> {
                                 throw std::runtime_error("redis down");
                               },
                               ServiceInfo{"svc", "host", 1}});
  dispatcher.dispatch(std::runtime_error("x"), "k", upbit());
  EXPECT_EQ(dispatcher.stats().breaker_failures, 1u);
  ASSERT_EQ(sink.records().size(), 1u);
  EXPECT_TRUE(parse(sink.records()[0].payload)["breaker"].IsNull());
}

TEST(ErrorRules, ErrorHandlerThatReportsAnErrorDoesNotLoop) {
  testing::CapturingLogger bus_log("bus");
  AsyncEventBus bus({}, bus_log);
  Fixture f({}, &bus);
  std::atomic<int> handled{0};
  auto sub = bus.on<sdk::ErrorEvent>([&](const sdk::ErrorEvent&) {
    ++handled;
    f.dispatcher->dispatch(std::runtime_error("alert webhook failed"), "unknown", upbit());
  });
  f.dispatcher->dispatch(std::runtime_error("x"), "ws_connection", upbit());
  ASSERT_TRUE(bus.drain(30s));
  ASSERT_TRUE(bus.drain(30s));
  EXPECT_EQ(handled.load(), 1);
  EXPECT_EQ(f.sink.records().size(), 2u);  // both errors are published
}

}  // namespace
}  // namespace crosscut
