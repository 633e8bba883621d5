// The `errors:` section: options, UTC offsets, the classification of `rules` items.
#include <gtest/gtest.h>

#include "crosscut/errors.hpp"
#include "errors/errors_config.hpp"
#include "support/config_nodes.hpp"

namespace crosscut {
namespace {

using testing::config_error;
using testing::map;
using testing::scalar;
using testing::sequence;

const auto kFile = std::make_shared<const std::string>("crosscut.yaml");

TEST(ErrorsConfig, ParsesSinkTopicAndTimezone) {
  auto node = map({{"sink", scalar("kafka-main", 2, 9)},
                   {"topic", scalar("errors.v1", 3, 10)},
                   {"timezone", scalar("+09:00", 4, 13)}},
                  1, 1);
  const auto o = parse_errors_options(sdk::ConfigView(&node, kFile, "errors"));
  EXPECT_EQ(o.sink, "kafka-main");
  EXPECT_EQ(o.topic, "errors.v1");
  ASSERT_TRUE(o.utc_offset);
  EXPECT_EQ(o.utc_offset->count(), 540);
}

TEST(ErrorsConfig, DefaultsAndSchema) {
  auto node = map({}, 1, 1);
  const auto o = parse_errors_options(sdk::ConfigView(&node, kFile, "errors"));
  EXPECT_EQ(o.sink, "");
  EXPECT_EQ(o.topic, "ws.error");
  EXPECT_FALSE(o.utc_offset);
  const auto& schema = errors_options_table().schema();
  ASSERT_EQ(schema.size(), 4u);
  EXPECT_EQ(schema[1].default_value, "ws.error");
  EXPECT_EQ(schema[3].key, "rules");
  EXPECT_EQ(schema[3].type, sdk::OptionType::any);
}

TEST(ErrorsConfig, BadTimezoneNamesItsPosition) {
  auto node = map({{"timezone", scalar("KST", 4, 13)}}, 1, 1);
  EXPECT_EQ(config_error([&] { parse_errors_options(sdk::ConfigView(&node, kFile, "errors")); }),
            "crosscut.yaml:4:13: errors.timezone: expected a UTC offset such as +09:00, -05:30 "
            "or Z, got 'KST'");
}

TEST(ErrorsConfig, RuleItemsAreClassified) {
  auto node = map(
      {{"rules", sequence({map({{"name", scalar("rate-limited", 5, 13)},
                                {"match", map({{"kind", scalar("ws_connection", 6, 22)}}, 6, 14)},
                                {"then", map({{"severity", scalar("warning", 7, 23)}}, 7, 13)}},
                               5, 7),
                           map({{"type", scalar("my_team_rules", 8, 15)},
                                {"options", map({{"level", scalar("3", 8, 48)}}, 8, 39)}},
                               8, 7)},
                          4, 5)}},
      3, 3);
  const auto items = rule_items(sdk::ConfigView(&node, kFile, "errors"));
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0].type, "declarative");
  EXPECT_EQ(items[0].options.get_string("name"), "rate-limited");
  EXPECT_EQ(items[0].options.path(), "errors.rules[0]");
  EXPECT_EQ(items[1].type, "my_team_rules");
  EXPECT_EQ(items[1].options.get_int("level"), 3);
  EXPECT_EQ(items[1].options.path(), "errors.rules[1].options");
}

TEST(ErrorsConfig, BadRuleItemsAreConfigErrors) {
  auto unknown_key =
      map({{"rules",
            sequence({map({{"name", scalar("a", 5, 13)}, {"when", map({}, 6, 13)}}, 5, 7)}, 4, 5)}},
          3, 3);
  EXPECT_EQ(config_error([&] { rule_items(sdk::ConfigView(&unknown_key, kFile, "errors")); }),
            "crosscut.yaml:6:13: errors.rules[0].when: unknown key in a rule (allowed: name, "
            "match, then)");
  auto no_name = map({{"rules", sequence({map({{"then", map({}, 6, 13)}}, 5, 7)}, 4, 5)}}, 3, 3);
  EXPECT_NE(config_error([&] {
              rule_items(sdk::ConfigView(&no_name, kFile, "errors"));
            }).find("crosscut.yaml:5:7: errors.rules[0].name: missing"),
            std::string::npos);
  auto duplicate = map({{"rules", sequence({map({{"name", scalar("a", 5, 13)}}, 5, 7),
                                            map({{"name", scalar("a", 6, 13)}}, 6, 7)},
                                           4, 5)}},
                       3, 3);
  EXPECT_EQ(config_error([&] { rule_items(sdk::ConfigView(&duplicate, kFile, "errors")); }),
            "crosscut.yaml:6:13: errors.rules[1].name: duplicate rule name 'a'");
  auto not_list = map({{"rules", scalar("all", 4, 10)}}, 3, 3);
  EXPECT_EQ(config_error([&] { rule_items(sdk::ConfigView(&not_list, kFile, "errors")); }),
            "crosscut.yaml:4:10: errors.rules: expected a list of rules");
}

}  // namespace
}  // namespace crosscut
