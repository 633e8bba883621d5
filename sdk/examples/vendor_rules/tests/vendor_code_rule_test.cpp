// The rule is a plain class: construct it and call evaluate(), no host involved.
#include "vendor_code_rule.hpp"

#include <gtest/gtest.h>

namespace {

namespace sdk = crosscut::sdk;
using vendor_rules::VendorCodeOptions;
using vendor_rules::VendorCodeRule;

std::optional<sdk::Decision> evaluate(const VendorCodeRule& rule, std::string kind,
                                      sdk::ExceptionInfo exception) {
  const sdk::Target target{"upbit", "korea", "ticker"};
  const sdk::Value context;
  return rule.evaluate(sdk::ErrorView{kind, exception, target, context});
}

VendorCodeOptions codes(std::vector<std::string> list) {
  VendorCodeOptions o;
  o.codes = std::move(list);
  return o;
}

TEST(VendorCodeRule, ClassifiesAMessageCarryingACode) {
  VendorCodeRule rule(codes({"VND-429", "VND-503"}));
  auto d = evaluate(rule, "ws_connection", {"HttpError", "upstream said VND-503, retry later", {}});
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->kind, "rate_limited");
  EXPECT_EQ(d->severity, sdk::Severity::warning);
  EXPECT_FALSE(d->breaker.has_value());  // left to the dispatcher
  EXPECT_FALSE(d->publish.has_value());
}

TEST(VendorCodeRule, LeavesOtherErrorsToTheNextRule) {
  VendorCodeRule rule(codes({"VND-429"}));
  EXPECT_FALSE(evaluate(rule, "ws_connection", {"ConnectionError", "connection refused", {}}));
  EXPECT_FALSE(evaluate(rule, "ws_connection", {"HttpError", "vnd-429 in lower case", {}}));
}

TEST(VendorCodeRule, LooksIntoNestedCauses) {
  VendorCodeRule rule(codes({"VND-429"}));
  sdk::ExceptionInfo outer{"SubscribeError",
                           "subscription failed",
                           {{"HttpError", "429 VND-429 too many requests", {}}}};
  EXPECT_TRUE(evaluate(rule, "ws_subscription", outer).has_value());
}

TEST(VendorCodeRule, OnlyKindRestrictsTheMatch) {
  VendorCodeOptions o = codes({"VND-429"});
  o.only_kind = "ws_connection";
  VendorCodeRule rule(o);
  EXPECT_TRUE(evaluate(rule, "ws_connection", {"E", "VND-429", {}}).has_value());
  EXPECT_FALSE(evaluate(rule, "kafka_producer", {"E", "VND-429", {}}).has_value());
}

TEST(VendorCodeRule, ReadsItsOptions) {
  // The host hands a factory a ConfigView over already-validated options; build one by hand.
  sdk::ConfigNode root;
  root.kind = sdk::ConfigNode::Kind::map;
  auto scalar = [](std::string text) {
    sdk::ConfigNode n;
    n.kind = sdk::ConfigNode::Kind::scalar;
    n.scalar = std::move(text);
    return n;
  };
  sdk::ConfigNode list;
  list.kind = sdk::ConfigNode::Kind::sequence;
  list.items = {scalar("VND-1")};
  root.entries = {{"name", scalar("vendor-429")},
                  {"codes", list},
                  {"kind", scalar("throttled")},
                  {"severity", scalar("critical")},
                  {"breaker", scalar("ignore")}};
  sdk::ConfigView view(&root, std::make_shared<const std::string>("test.yaml"), "options");

  VendorCodeOptions o = VendorCodeRule::options_table().read(view);
  EXPECT_EQ(o.name, "vendor-429");
  EXPECT_EQ(VendorCodeRule(o).name(), "vendor-429");
  EXPECT_EQ(o.codes, std::vector<std::string>{"VND-1"});
  EXPECT_EQ(o.kind, "throttled");
  EXPECT_EQ(o.severity, sdk::Severity::critical);
  EXPECT_EQ(o.breaker, "ignore");
  EXPECT_NO_THROW(VendorCodeRule::check_options(o, view));
  auto d = evaluate(VendorCodeRule(o), "ws_connection", {"HttpError", "VND-1", {}});
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->breaker, sdk::BreakerAction::ignore);

  // The table requires `codes`; an empty list is the rule's own check.
  root.entries[1].second.items.clear();
  EXPECT_THROW(VendorCodeRule::check_options(VendorCodeRule::options_table().read(view), view),
               sdk::ConfigError);
}

}  // namespace
