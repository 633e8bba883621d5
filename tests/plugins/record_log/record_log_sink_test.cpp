// The `record` log sink: log lines published through a named record sink.
#include <gtest/gtest.h>

#include <mutex>
#include <string>
#include <vector>

#include "config/option_validator.hpp"
#include "config/yaml_tree_loader.hpp"
#include "crosscut/sdk/sdk.hpp"
#include "record_log/record_log_sink.hpp"
#include "support/component_cast.hpp"
#include "support/test_host.hpp"

extern "C" const crosscut_plugin_info* crosscut_plugin_entry();

namespace {

using crosscut::record_log::RecordLogSink;
using crosscut::sdk::LogRecord;
using crosscut::sdk::Record;
using crosscut::sdk::RecordOrigin;

// A record sink that keeps what it is given; `on_publish` runs inside publish().
class CapturingRecordSink : public crosscut::sdk::RecordSink {
 public:
  std::function<void()> on_publish;
  bool accept = true;

  bool publish(Record record) override {
    {
      std::lock_guard lock(mu_);
      records_.push_back(std::move(record));
    }
    if (on_publish) on_publish();
    return accept;
  }
  bool flush(std::chrono::steady_clock::time_point) override { return true; }
  crosscut::sdk::DeliveryStats stats() const override { return {}; }
  std::vector<Record> records() const {
    std::lock_guard lock(mu_);
    return records_;
  }

 private:
  mutable std::mutex mu_;
  std::vector<Record> records_;
};

std::unique_ptr<RecordLogSink> build(const std::string& yaml, crosscut::sdk::HostContext& host) {
  auto tree = crosscut::config::parse_yaml_tree(
      yaml, "crosscut.yaml", [](const std::string&) { return std::optional<std::string>{}; });
  const auto& d =
      *static_cast<const crosscut::sdk::PluginDescriptor*>(crosscut_plugin_entry()->descriptor);
  const auto& factory = d.components.at(0);
  crosscut::config::validate_options(tree.root, factory.schema, {tree.file, "logging.sinks[1]"},
                                     {"type"});
  auto c =
      factory.create(crosscut::sdk::ConfigView(&tree.root, tree.file, "logging.sinks[1]"), host);
  return crosscut::testing::component_as<RecordLogSink>(std::move(c));
}

LogRecord log_record(std::string_view logger, std::string_view json) {
  LogRecord r;
  r.logger = logger;
  r.category = "app";
  r.message = "m";
  r.json = json;
  return r;
}

TEST(RecordLogSink, DescribesTheRecordLogSink) {
  const auto* info = crosscut_plugin_entry();
  EXPECT_STREQ(info->name, "record_log");
  const auto& d = *static_cast<const crosscut::sdk::PluginDescriptor*>(info->descriptor);
  ASSERT_EQ(d.components.size(), 1u);
  EXPECT_EQ(d.components[0].kind, crosscut::sdk::ComponentKind::log_sink);
  EXPECT_EQ(d.components[0].type, "record");
}

TEST(RecordLogSink, PublishesEachLineWithTheTopicAndTheLoggerAsKey) {
  crosscut::testing::TestHost host;
  CapturingRecordSink target;
  host.add_record_sink("kafka-main", &target);
  auto sink = build("type: record\nsink: kafka-main\ntopic: ws.logs\n", host);
  ASSERT_TRUE(sink);
  const std::string line1 = R"({"level":"INFO","logger":"orchestrator","message":"up"})";
  const std::string line2 = R"({"level":"ERROR","logger":"collector","message":"down"})";
  sink->write(log_record("orchestrator", line1));
  sink->write(log_record("collector", line2));
  const auto records = target.records();
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].topic, "ws.logs");
  EXPECT_EQ(records[0].key, "orchestrator");
  EXPECT_EQ(records[0].payload, line1);
  EXPECT_EQ(records[1].key, "collector");
  EXPECT_EQ(records[1].payload, line2);
  // A log line that cannot be delivered must not come back as an error (and be logged again).
  EXPECT_EQ(records[0].origin, RecordOrigin::error_report);
  EXPECT_EQ(sink->failures(), 0u);
}

TEST(RecordLogSink, TopicDefaultsToLogsAndRefusalsAreCounted) {
  crosscut::testing::TestHost host;
  CapturingRecordSink target;
  target.accept = false;
  host.add_record_sink("out", &target);
  auto sink = build("type: record\nsink: out\n", host);
  sink->write(log_record("a", "{}"));
  ASSERT_EQ(target.records().size(), 1u);
  EXPECT_EQ(target.records()[0].topic, "logs");
  EXPECT_EQ(sink->failures(), 1u);
}

TEST(RecordLogSink, UnknownSinkNameIsAConfigErrorAtTheOption) {
  crosscut::testing::TestHost host;
  try {
    build("type: record\nsink: nowhere\n", host);
    ADD_FAILURE() << "built over a missing sink";
  } catch (const crosscut::sdk::ConfigError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("crosscut.yaml:2:7: logging.sinks[1].sink: no record sink named 'nowhere'"),
              std::string::npos)
        << what;
  }
}

TEST(RecordLogSink, DoesNotForwardTheRecordSinksOwnLoggerOrReentrantRecords) {
  crosscut::testing::TestHost host;
  CapturingRecordSink target;
  host.add_record_sink("kafka-main", &target);
  auto sink = build("type: record\nsink: kafka-main\n", host);
  // The Kafka sink's own records are excluded by default.
  sink->write(log_record("kafka_sink", "{}"));
  EXPECT_TRUE(target.records().empty());
  // A record sink that logs synchronously while publishing, delivered straight back to us.
  target.on_publish = [&] { sink->write(log_record("inner", "{}")); };
  sink->write(log_record("outer", "{}"));
  const auto records = target.records();
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].key, "outer");
  EXPECT_EQ(sink->skipped(), 2u);
}

TEST(RecordLogSink, ExcludedLoggersAreConfigurable) {
  crosscut::testing::TestHost host;
  CapturingRecordSink target;
  host.add_record_sink("s", &target);
  auto sink = build("type: record\nsink: s\nexclude_loggers: [noisy]\n", host);
  sink->write(log_record("noisy", "{}"));
  sink->write(log_record("kafka_sink", "{}"));
  const auto records = target.records();
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].key, "kafka_sink");
}

}  // namespace
