// The declarative rule: conditions, globs, regexes, decisions and configuration errors.
#include <gtest/gtest.h>

#include <functional>

#include "config/option_validator.hpp"
#include "support/test_host.hpp"
#include "yaml_rules/declarative_rule.hpp"
#include "yaml_rules/glob.hpp"
#include "yaml_rules/plugin.hpp"

namespace crosscut::yaml_rules {
namespace {

const auto kFile = std::make_shared<const std::string>("crosscut.yaml");

// A tiny builder for configuration trees: every node gets the next line, so positions are
// predictable (line = order of creation, column = 7).
class Tree {
 public:
  sdk::ConfigNode scalar(std::string text) {
    sdk::ConfigNode n;
    n.kind = sdk::ConfigNode::Kind::scalar;
    n.scalar = std::move(text);
    n.mark = {++line_, 7};
    return n;
  }
  sdk::ConfigNode map(std::vector<std::pair<std::string, sdk::ConfigNode>> entries) {
    sdk::ConfigNode n;
    n.kind = sdk::ConfigNode::Kind::map;
    n.entries = std::move(entries);
    n.mark = {++line_, 7};
    return n;
  }

 private:
  int line_ = 0;
};

using Entries = std::vector<std::pair<std::string, std::string>>;

// {name, match: {...}, then: {...}} from flat key/value lists.
sdk::ConfigNode rule_node(const Entries& match, const Entries& then, std::string name = "r") {
  Tree t;
  std::vector<std::pair<std::string, sdk::ConfigNode>> m, d;
  for (const auto& [k, v] : match) m.emplace_back(k, t.scalar(v));
  for (const auto& [k, v] : then) d.emplace_back(k, t.scalar(v));
  std::vector<std::pair<std::string, sdk::ConfigNode>> entries;
  entries.emplace_back("name", t.scalar(std::move(name)));
  if (!match.empty()) entries.emplace_back("match", t.map(std::move(m)));
  if (!then.empty()) entries.emplace_back("then", t.map(std::move(d)));
  return t.map(std::move(entries));
}

// As the host does: the item is validated against the rule's table, then read into options.
sdk::ConfigNode validated(sdk::ConfigNode node) {
  config::validate_options(node, DeclarativeRule::options_table().schema(),
                           {kFile, "errors.rules[0]"});
  return node;
}

DeclarativeRule rule_from(const sdk::ConfigNode& node, sdk::HostContext& host) {
  const sdk::ConfigView view(&node, kFile, "errors.rules[0]");
  return DeclarativeRule(DeclarativeRule::options_table().read(view), view, host);
}

struct Built {
  Built(const Entries& match, const Entries& then)
      : node(validated(rule_node(match, then))), rule(rule_from(node, host)) {}
  testing::TestHost host;
  sdk::ConfigNode node;
  DeclarativeRule rule;
};

std::string config_error(const Entries& match, const Entries& then) {
  try {
    Built b(match, then);
  } catch (const sdk::ConfigError& e) {
    return e.what();
  }
  return "(no error)";
}

struct Error {
  std::string kind = "ws_connection";
  sdk::ExceptionInfo exception{"ConnectionError", "HTTP 429 Too Many Requests", {}};
  sdk::Target target{"upbit", "korea", "ticker"};
  sdk::Value context;
  sdk::ErrorView view() const { return {kind, exception, target, context}; }
};

TEST(Glob, Wildcards) {
  EXPECT_TRUE(glob_match("ConnectionError", "ConnectionError"));
  EXPECT_FALSE(glob_match("ConnectionError", "ConnectionErrors"));
  EXPECT_TRUE(glob_match("*Error", "crosscut::ConnectionError"));
  EXPECT_TRUE(glob_match("*", ""));
  EXPECT_TRUE(glob_match("Conn?ctionError", "ConnectionError"));
  EXPECT_FALSE(glob_match("Conn?ctionError", "ConnctionError"));
  EXPECT_TRUE(glob_match("std::*_error", "std::runtime_error"));
  EXPECT_TRUE(glob_match("*a*b*c", "xxaxxbxxbxxc"));
  EXPECT_FALSE(glob_match("*a*b*c", "xxaxxbxxbxx"));
  EXPECT_FALSE(glob_match("?", ""));
  EXPECT_TRUE(glob_match("**", "anything"));
}

TEST(DeclarativeRule, EveryGivenConditionMustHold) {
  Built b({{"kind", "ws_connection"},
           {"exception", "*ConnectionError"},
           {"message", "(?i)429|too many requests"},
           {"exchange", "upbit"},
           {"region", "korea"},
           {"request_type", "ticker"}},
          {{"kind", "rate_limited"}});
  Error e;
  EXPECT_TRUE(b.rule.evaluate(e.view()));
  auto fails = [&](const std::function<void(Error&)>& change) {
    Error x;
    change(x);
    return !b.rule.evaluate(x.view());
  };
  EXPECT_TRUE(fails([](Error& x) { x.kind = "ws_subscription"; }));
  EXPECT_TRUE(fails([](Error& x) { x.exception.type = "TimeoutError"; }));
  EXPECT_TRUE(fails([](Error& x) { x.exception.message = "connection refused"; }));
  EXPECT_TRUE(fails([](Error& x) { x.target.exchange = "bithumb"; }));
  EXPECT_TRUE(fails([](Error& x) { x.target.region = "global"; }));
  EXPECT_TRUE(fails([](Error& x) { x.target.request_type = "orderbook"; }));
  EXPECT_FALSE(fails([](Error& x) { x.exception.message = "too MANY requests, slow down"; }));
  EXPECT_EQ(b.rule.name(), "r");
}

TEST(DeclarativeRule, NoConditionsMatchesEverything) {
  Built b({}, {{"severity", "info"}});
  Error e;
  e.kind = "anything";
  EXPECT_TRUE(b.rule.evaluate(e.view()));
}

TEST(DeclarativeRule, ExceptionWithoutWildcardIsExact) {
  Built b({{"exception", "ConnectionError"}}, {{"severity", "info"}});
  Error e;
  EXPECT_TRUE(b.rule.evaluate(e.view()));
  e.exception.type = "crosscut::ConnectionError";
  EXPECT_FALSE(b.rule.evaluate(e.view()));
}

TEST(DeclarativeRule, RegexIsASearchAndLinearOnHostileInput) {
  Built b({{"message", "(a+)+$"}}, {{"severity", "info"}});
  Error e;
  e.exception.message = std::string(100000, 'a') + "!";  // catastrophic for backtracking engines
  EXPECT_FALSE(b.rule.evaluate(e.view()));
  e.exception.message = "prefix aaa";
  EXPECT_TRUE(b.rule.evaluate(e.view()));
}

TEST(DeclarativeRule, EveryDecisionFieldIsCarried) {
  Built b({}, {{"kind", "rate_limited"},
               {"severity", "warning"},
               {"breaker", "ignore"},
               {"publish", "false"},
               {"suppress_for", "1500ms"}});
  Error e;
  const auto d = b.rule.evaluate(e.view());
  ASSERT_TRUE(d);
  EXPECT_EQ(d->kind, "rate_limited");
  EXPECT_EQ(d->severity, sdk::Severity::warning);
  EXPECT_EQ(d->breaker, sdk::BreakerAction::ignore);
  EXPECT_EQ(d->publish, false);
  EXPECT_EQ(d->suppress_for, std::chrono::milliseconds(1500));
}

TEST(DeclarativeRule, UnsetDecisionFieldsStayUnset) {
  Built b({}, {{"breaker", "trip"}});
  Error e;
  const auto d = b.rule.evaluate(e.view());
  ASSERT_TRUE(d);
  EXPECT_FALSE(d->kind);
  EXPECT_FALSE(d->severity);
  EXPECT_EQ(d->breaker, sdk::BreakerAction::trip);
  EXPECT_FALSE(d->publish);
  EXPECT_FALSE(d->suppress_for);
}

// Positions: the tree builder numbers nodes in creation order (match values, then decision
// values, then the name, then the maps).
TEST(DeclarativeRule, InvalidRegexIsAConfigErrorAtThePattern) {
  EXPECT_EQ(config_error({{"message", "(unclosed"}}, {}),
            "crosscut.yaml:1:7: errors.rules[0].match.message: invalid regular expression: "
            "missing ): (unclosed");
}

// Values and keys outside the table are the host validator's to refuse.
TEST(DeclarativeRule, UnknownDecisionValuesAreConfigErrors) {
  EXPECT_EQ(config_error({}, {{"severity", "fatal"}}),
            "crosscut.yaml:1:7: errors.rules[0].then.severity: 'fatal' is not one of: debug, "
            "info, warning, error, critical");
  EXPECT_EQ(config_error({}, {{"publish", "true"}, {"breaker", "open"}}),
            "crosscut.yaml:2:7: errors.rules[0].then.breaker: 'open' is not one of: trip, ignore");
  EXPECT_EQ(config_error({}, {{"publish", "maybe"}}),
            "crosscut.yaml:1:7: errors.rules[0].then.publish: expected true or false, got 'maybe'");
  EXPECT_EQ(config_error({}, {{"suppress_for", "5 minutes"}}),
            "crosscut.yaml:1:7: errors.rules[0].then.suppress_for: unknown duration unit "
            "'minutes' in '5 minutes' (use ns, us, ms, s, m, h, d)");
  EXPECT_EQ(config_error({}, {{"suppress_for", "0s"}}),
            "crosscut.yaml:1:7: errors.rules[0].then.suppress_for: must be > 0 (got 0s)");
}

// An unknown key is reported at its map (the tree builder sets no key positions).
TEST(DeclarativeRule, UnknownKeysAreConfigErrors) {
  EXPECT_EQ(config_error({{"exchnage", "upbit"}}, {}),
            "crosscut.yaml:3:7: errors.rules[0].match.exchnage: unknown key 'exchnage' (did you "
            "mean 'exchange'?)");
  EXPECT_EQ(config_error({}, {{"retry", "3"}}),
            "crosscut.yaml:3:7: errors.rules[0].then.retry: unknown key 'retry'");
  EXPECT_EQ(config_error({{"kind", ""}}, {}),
            "crosscut.yaml:1:7: errors.rules[0].match.kind: must not be empty (leave the "
            "condition out instead)");
  EXPECT_EQ(config_error({}, {{"kind", ""}}),
            "crosscut.yaml:1:7: errors.rules[0].then.kind: must not be empty");
}

TEST(DeclarativeRule, AnEmptyNameIsAConfigError) {
  testing::TestHost host;
  auto node = validated(rule_node({}, {{"severity", "info"}}, ""));
  try {
    rule_from(node, host);
    ADD_FAILURE() << "a rule without a name was built";
  } catch (const sdk::ConfigError& e) {
    EXPECT_STREQ(e.what(),
                 "crosscut.yaml:2:7: errors.rules[0].name: missing: every rule needs a name");
  }
}

TEST(YamlRulesPlugin, DescribesTheDeclarativeRuleWithItsSchema) {
  const sdk::PluginDescriptor d = describe();
  EXPECT_EQ(d.name, "yaml_rules");
  ASSERT_EQ(d.components.size(), 1u);
  const auto& f = d.components[0];
  EXPECT_EQ(f.kind, sdk::ComponentKind::exception_rule);
  EXPECT_EQ(f.type, "declarative");
  ASSERT_EQ(f.schema.size(), 3u);
  EXPECT_TRUE(f.schema[0].required);
  EXPECT_EQ(f.schema[1].type, sdk::OptionType::object);
  EXPECT_EQ(f.schema[1].children.size(), 6u);
  const auto& then = f.schema[2].children;
  ASSERT_EQ(then.size(), 5u);
  EXPECT_EQ(then[1].choices,
            (std::vector<std::string>{"debug", "info", "warning", "error", "critical"}));
  EXPECT_EQ(then[2].choices, (std::vector<std::string>{"trip", "ignore"}));
  EXPECT_EQ(then[3].type, sdk::OptionType::boolean);
  EXPECT_EQ(then[4].type, sdk::OptionType::duration);

  // The factory builds a working rule.
  testing::TestHost host;
  auto node = rule_node({{"kind", "ws_connection"}}, {{"severity", "critical"}}, "via-factory");
  auto component = f.create(sdk::ConfigView(&node, kFile, "errors.rules[3]"), host);
  auto* rule = dynamic_cast<sdk::ExceptionRule*>(component.get());
  ASSERT_NE(rule, nullptr);
  EXPECT_EQ(rule->name(), "via-factory");
  Error e;
  EXPECT_EQ(rule->evaluate(e.view())->severity, sdk::Severity::critical);
}

}  // namespace
}  // namespace crosscut::yaml_rules
