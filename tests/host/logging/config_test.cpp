#include <gtest/gtest.h>

#include "config/option_validator.hpp"
#include "logging/log_config.hpp"
#include "yaml_config.hpp"

namespace crosscut::testing {
namespace {

using logging::parse_log_options;

std::string error_of(const std::string& yaml) {
  YamlConfig c(yaml);
  try {
    // What the runtime does: the table's checks first, then the reader's own.
    config::validate_options(c.root, logging::log_options_table().schema(),
                             {std::make_shared<const std::string>("test.yaml"), "logging"});
    parse_log_options(c.view());
  } catch (const sdk::ConfigError& e) {
    return e.what();
  }
  return "";
}

TEST(LogConfig, ReadsTheDocumentedExample) {
  YamlConfig c(R"(
level: info
levels: {orchestrator: debug, kafka: warn}
timezone: "+09:00"
sinks:
  - {type: console, format: json}
pii: {enabled: true, patterns: [phone_kr, email], custom: ["acct-[0-9]+"], keys: [api_key]}
sampling: {per_message_per_second: 50}
queue: {capacity: 64KiB, overflow: drop_newest}
crash_handler: false
)");
  const auto o = parse_log_options(c.view());
  EXPECT_EQ(o.level, sdk::Level::info);
  ASSERT_EQ(o.levels.size(), 2u);
  EXPECT_EQ(o.levels[0], (std::pair<std::string, sdk::Level>{"orchestrator", sdk::Level::debug}));
  EXPECT_EQ(o.levels[1].second, sdk::Level::warning);
  EXPECT_EQ(o.utc_offset, std::chrono::minutes(540));
  EXPECT_EQ(o.pii.patterns, (std::vector<std::string>{"phone_kr", "email"}));
  EXPECT_EQ(o.pii.custom, (std::vector<std::string>{"acct-[0-9]+"}));
  EXPECT_EQ(o.sampling.per_message_per_second, 50u);
  EXPECT_EQ(o.queue.capacity.bytes, 64u << 10);
  EXPECT_EQ(o.queue.overflow, sdk::OverflowPolicy::drop_newest);
  EXPECT_FALSE(o.crash_handler);
}

TEST(LogConfig, EmptySectionGivesDefaults) {
  YamlConfig c("{}");
  const auto o = parse_log_options(c.view());
  EXPECT_EQ(o.level, sdk::Level::info);
  EXPECT_TRUE(o.pii.enabled);
  EXPECT_EQ(o.queue.overflow, sdk::OverflowPolicy::block);
  EXPECT_EQ(o.queue.capacity.bytes, 1u << 20);
  EXPECT_TRUE(o.crash_handler);
}

TEST(LogConfig, ErrorsNamePositionKeyAndProblem) {
  std::string e = error_of("level: loud\n");
  EXPECT_NE(e.find("test.yaml:1:8: logging.level: 'loud' is not one of: debug, info"),
            std::string::npos)
      << e;
  e = error_of("levels:\n  orchestrator: chatty\n");
  EXPECT_NE(e.find("logging.levels.orchestrator"), std::string::npos) << e;
  EXPECT_NE(e.find("'chatty'"), std::string::npos) << e;
  e = error_of("timezone: \"+25:00\"\n");
  EXPECT_NE(e.find("logging.timezone: invalid UTC offset '+25:00'"), std::string::npos) << e;
  e = error_of("pii: {custom: [\"ok\", \"(bad\"]}\n");
  EXPECT_NE(e.find("logging.pii.custom: entry 1"), std::string::npos) << e;
  EXPECT_NE(e.find("missing )"), std::string::npos) << e;  // RE2's own words
  e = error_of("pii: {patterns: [phone_us]}\n");
  EXPECT_NE(e.find("unknown pii pattern 'phone_us'"), std::string::npos) << e;
  // A thread's queue can only refuse the new record: the oldest belongs to the logging thread.
  e = error_of("queue: {overflow: drop_oldest}\n");
  EXPECT_NE(e.find("logging.queue.overflow"), std::string::npos) << e;
  e = error_of("queue: {capacity: 1KiB}\n");
  EXPECT_NE(e.find("logging.queue.capacity"), std::string::npos) << e;
}

TEST(LogConfig, SchemaDeclaresEveryKey) {
  const auto& schema = logging::log_options_table().schema();
  std::vector<std::string> keys;
  for (const auto& o : schema) keys.push_back(o.key);
  EXPECT_EQ(keys, (std::vector<std::string>{"level", "levels", "timezone", "sinks", "pii",
                                            "sampling", "queue", "crash_handler"}));
  EXPECT_EQ(schema[3].type, sdk::OptionType::any);
  EXPECT_EQ(schema[4].children.size(), 4u);
}

}  // namespace
}  // namespace crosscut::testing
