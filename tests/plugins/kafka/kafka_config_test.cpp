// Configuration of the kafka components: the schema, and librdkafka's refusals reported as
// ConfigErrors at the option (file:line:column and key path) with librdkafka's own words.
#include <gtest/gtest.h>

#include <string>

#include "config/config_printer.hpp"
#include "kafka/kafka_input.hpp"
#include "kafka/kafka_record_sink.hpp"
#include "kafka_test_support.hpp"

namespace {

using crosscut::kafka::KafkaInput;
using crosscut::kafka::KafkaRecordSink;
using crosscut::sdk::ComponentKind;
using crosscut::sdk::ConfigError;
using crosscut::testing::build_kafka;
using crosscut::testing::kafka_factory;
using crosscut::testing::WaitableHost;

// The message of the ConfigError building a sink from `yaml` throws, or "" when none.
std::string sink_error(const std::string& yaml) {
  WaitableHost host;
  try {
    build_kafka<KafkaRecordSink>(ComponentKind::record_sink, yaml, host);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

std::string input_error(const std::string& yaml) {
  WaitableHost host;
  try {
    build_kafka<KafkaInput>(ComponentKind::input, yaml, host, "inputs[0]");
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

TEST(KafkaConfig, DescribesTheSinkAndTheInput) {
  const auto* info = crosscut_plugin_entry();
  ASSERT_NE(info, nullptr);
  EXPECT_STREQ(info->name, "kafka");
  const auto& sink = kafka_factory(ComponentKind::record_sink);
  const auto& input = kafka_factory(ComponentKind::input);
  auto find = [](const crosscut::sdk::ConfigSchema& s, const std::string& key) {
    for (const auto& o : s)
      if (o.key == key) return &o;
    return static_cast<const crosscut::sdk::OptionSpec*>(nullptr);
  };
  ASSERT_NE(find(sink.schema, "brokers"), nullptr);
  EXPECT_TRUE(find(sink.schema, "brokers")->required);
  EXPECT_EQ(find(sink.schema, "acks")->default_value, "all");
  EXPECT_EQ(find(sink.schema, "idempotence")->default_value, "true");
  EXPECT_EQ(find(sink.schema, "properties")->type, crosscut::sdk::OptionType::string_map);
  ASSERT_NE(find(input.schema, "topics"), nullptr);
  EXPECT_EQ(find(input.schema, "topics")->type, crosscut::sdk::OptionType::object_list);
  EXPECT_TRUE(find(input.schema, "group_id")->required);
}

TEST(KafkaConfig, UnknownLibrdkafkaPropertyIsAnErrorAtThatPropertyWithLibrdkafkasMessage) {
  const std::string e = sink_error(
      "type: kafka\n"
      "brokers: 127.0.0.1:9\n"
      "properties:\n"
      "  security.protocol: plaintext\n"
      "  no.such.property: x\n");
  EXPECT_NE(e.find("crosscut.yaml:5:"), std::string::npos) << e;
  EXPECT_NE(e.find("sinks.main.properties.no.such.property"), std::string::npos) << e;
  EXPECT_NE(e.find("No such configuration property"), std::string::npos) << e;
}

TEST(KafkaConfig, BadLibrdkafkaValueIsAnErrorAtThatProperty) {
  const std::string e = sink_error(
      "type: kafka\n"
      "brokers: 127.0.0.1:9\n"
      "properties: {security.protocol: carrier-pigeon}\n");
  EXPECT_NE(e.find("crosscut.yaml:3:"), std::string::npos) << e;
  EXPECT_NE(e.find("sinks.main.properties.security.protocol"), std::string::npos) << e;
  EXPECT_NE(e.find("Invalid value"), std::string::npos) << e;
}

TEST(KafkaConfig, BadCompressionIsRefused) {
  const std::string e = sink_error("type: kafka\nbrokers: 127.0.0.1:9\ncompression: brotli\n");
  EXPECT_NE(e.find("crosscut.yaml:3:"), std::string::npos) << e;
  EXPECT_NE(e.find("compression"), std::string::npos) << e;
  EXPECT_NE(e.find("brotli"), std::string::npos) << e;
}

TEST(KafkaConfig, IdempotenceNeedsAcksAll) {
  const std::string e = sink_error("type: kafka\nbrokers: 127.0.0.1:9\nacks: 1\n");
  EXPECT_NE(e.find("crosscut.yaml:3:"), std::string::npos) << e;
  EXPECT_NE(e.find("sinks.main.acks: must be all when idempotence is true"), std::string::npos)
      << e;
  EXPECT_EQ(sink_error("type: kafka\nbrokers: 127.0.0.1:9\nacks: 1\nidempotence: false\n"), "");
}

TEST(KafkaConfig, QueueMaxMessagesIsBoundedByLibrdkafkasLimit) {
  const std::string e =
      sink_error("type: kafka\nbrokers: 127.0.0.1:9\nqueue_max_messages: 2147483648\n");
  EXPECT_NE(e.find("crosscut.yaml:3:"), std::string::npos) << e;
  // The host validator's bound message: the key, the limit and the value given.
  EXPECT_NE(e.find("sinks.main.queue_max_messages: must be"), std::string::npos) << e;
  EXPECT_NE(e.find("2147483647 (got 2147483648)"), std::string::npos) << e;
  EXPECT_EQ(sink_error("type: kafka\nbrokers: 127.0.0.1:9\nqueue_max_messages: 2147483647\n"), "");
}

TEST(KafkaConfig, MissingBrokersIsRefused) {
  const std::string e = sink_error("type: kafka\nacks: all\n");
  EXPECT_NE(e.find("brokers"), std::string::npos) << e;
}

TEST(KafkaConfig, SinkOptionsReachLibrdkafka) {
  // Every option maps to a property librdkafka accepts, for each codec.
  for (const std::string codec : {"none", "gzip", "snappy", "lz4", "zstd"})
    EXPECT_EQ(sink_error("type: kafka\nbrokers: 127.0.0.1:9\ncompression: " + codec +
                         "\nlinger: 20ms\nbatch_size: 64KiB\nqueue_max_messages: 1000\n"
                         "queue_max_size: 16MiB\nmessage_timeout: 30s\non_full: drop\n"
                         "properties: {sasl.mechanism: PLAIN}\n"),
              "")
        << codec;
}

TEST(KafkaConfig, InputNeedsGroupTopicsAndAValidSymbolRegex) {
  const std::string base =
      "type: kafka\nbrokers: 127.0.0.1:9\ngroup_id: g\ntopics:\n"
      "  - topic: upbit.ticker\n"
      "    target: {exchange: upbit, region: korea, request_type: ticker}\n"
      "    symbol_field: code\n";
  EXPECT_EQ(input_error(base), "");
  EXPECT_EQ(input_error(base + "    symbol_regex: \"^KRW-(.*)$\"\n"), "");

  std::string e = input_error(base + "    symbol_regex: \"^KRW-(.*$\"\n");
  EXPECT_NE(e.find("crosscut.yaml:8:"), std::string::npos) << e;
  EXPECT_NE(e.find("inputs[0].topics[0].symbol_regex"), std::string::npos) << e;
  EXPECT_NE(e.find("missing )"), std::string::npos) << e;

  e = input_error(base + "    symbol_regex: \"^KRW-.*$\"\n");
  EXPECT_NE(e.find("exactly one capture group"), std::string::npos) << e;

  e = input_error(
      "type: kafka\nbrokers: 127.0.0.1:9\ntopics:\n  - topic: t\n"
      "    target: {exchange: a, region: b, request_type: c}\n    symbol_field: code\n");
  EXPECT_NE(e.find("group_id"), std::string::npos) << e;

  e = input_error(base + "properties: {no.such.property: x}\n");
  EXPECT_NE(e.find("inputs[0].properties.no.such.property"), std::string::npos) << e;
  EXPECT_NE(e.find("No such configuration property"), std::string::npos) << e;

  e = input_error(base +
                  "  - topic: upbit.ticker\n"
                  "    target: {exchange: upbit, region: korea, request_type: ticker}\n"
                  "    symbol_field: code\n");
  EXPECT_NE(e.find("listed twice"), std::string::npos) << e;
}

}  // namespace

namespace {

TEST(KafkaConfig, SecretPropertiesFromTheEnvironmentAreRedactedWhenPrinted) {
  auto tree = crosscut::config::parse_yaml_tree(
      "type: kafka\nbrokers: 127.0.0.1:9\nproperties:\n"
      "  security.protocol: SASL_SSL\n  sasl.mechanism: PLAIN\n"
      "  sasl.username: collector\n  sasl.password: \"${KAFKA_PASSWORD}\"\n"
      "  ssl.key.password: \"${KAFKA_PASSWORD}\"\n",
      "crosscut.yaml", [](const std::string& name) {
        return name == "KAFKA_PASSWORD" ? std::optional<std::string>("hunter2-secret")
                                        : std::nullopt;
      });
  const auto& factory = kafka_factory(ComponentKind::record_sink);
  crosscut::config::validate_options(tree.root, factory.schema, {tree.file, "sinks.main"},
                                     {"type"});
  // The password reached the options (and librdkafka accepts them)...
  WaitableHost host;
  EXPECT_NO_THROW(
      factory.create(crosscut::sdk::ConfigView(&tree.root, tree.file, "sinks.main"), host));
  // ...but `validate --print` does not show it.
  const std::string printed = crosscut::config::print_yaml(tree.root);
  EXPECT_EQ(printed.find("hunter2-secret"), std::string::npos) << printed;
  EXPECT_NE(printed.find("sasl.username: collector"), std::string::npos) << printed;
  EXPECT_NE(printed.find("<redacted>"), std::string::npos) << printed;
}

}  // namespace
