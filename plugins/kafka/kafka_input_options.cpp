#include "kafka_input_options.hpp"

#include <stdexcept>
#include <utility>

namespace crosscut::kafka {

using sdk::OptionSpec;
using sdk::OptionType;

sdk::ConfigSchema kafka_input_schema() {
  OptionSpec target{.key = "target",
                    .type = OptionType::object,
                    .description = "the connection the messages are counted for",
                    .required = true};
  target.children = {
      {.key = "exchange",
       .type = OptionType::string,
       .description = "e.g. upbit",
       .required = true},
      {.key = "region", .type = OptionType::string, .description = "e.g. korea", .required = true},
      {.key = "request_type",
       .type = OptionType::string,
       .description = "e.g. ticker",
       .required = true},
  };
  OptionSpec topics{.key = "topics",
                    .type = OptionType::object_list,
                    .description = "topics to count, each {topic, target, symbol_field, ...}",
                    .required = true};
  topics.children = {
      {.key = "topic", .type = OptionType::string, .description = "topic name", .required = true},
      std::move(target),
      {.key = "symbol_field",
       .type = OptionType::string,
       .description = "JSON member holding the symbol, e.g. code",
       .required = true},
      {.key = "time_field",
       .type = OptionType::string,
       .description = "JSON member holding the event time in epoch ms, e.g. timestamp "
                      "(absent: counted in the minute of arrival)"},
      {.key = "symbol_regex",
       .type = OptionType::string,
       .description = "RE2 with one capture group taking the symbol out, e.g. ^KRW-(.*)$"},
  };
  return {
      {.key = "brokers",
       .type = OptionType::string,
       .description = "bootstrap servers, host:port[,host:port...]",
       .required = true},
      {.key = "group_id",
       .type = OptionType::string,
       .description = "consumer group; offsets are committed for it after processing",
       .required = true},
      {.key = "client_id",
       .type = OptionType::string,
       .default_value = "crosscut",
       .description = "client.id sent to the brokers"},
      {.key = "auto_offset_reset",
       .type = OptionType::string,
       .default_value = "latest",
       .description = "where a group without a committed offset starts",
       .choices = {"earliest", "latest"}},
      {.key = "commit_interval",
       .type = OptionType::duration,
       .default_value = "1s",
       .description = "how often offsets of processed messages are committed",
       .positive = true},
      std::move(topics),
      {.key = "properties",
       .type = OptionType::string_map,
       .description = "any librdkafka consumer property (SASL/SSL...); secrets via ${ENV}"},
  };
}

KafkaInputOptions read_kafka_input_options(const sdk::ConfigView& options) {
  KafkaInputOptions o;
  const std::string brokers = options.get_string("brokers");
  if (brokers.empty()) options.fail("brokers", "at least one host:port is required");
  const std::string group = options.get_string("group_id");
  if (group.empty()) options.fail("group_id", "a consumer group is required");
  const std::string reset = options.get_string("auto_offset_reset", "latest");
  if (reset != "earliest" && reset != "latest")
    options.fail("auto_offset_reset", "expected earliest or latest, got '" + reset + "'");
  o.commit_interval = std::chrono::ceil<std::chrono::milliseconds>(
      options.get_duration("commit_interval", std::chrono::seconds(1)));
  if (o.commit_interval.count() <= 0) options.fail("commit_interval", "must be > 0");

  o.properties = {
      {"bootstrap.servers", brokers, "brokers"},
      {"group.id", group, "group_id"},
      {"client.id", options.get_string("client_id", "crosscut"), "client_id"},
      {"auto.offset.reset", reset, "auto_offset_reset"},
      // Offsets are stored after each message is processed and committed by the input.
      {"enable.auto.commit", "false", ""},
      {"enable.auto.offset.store", "false", ""},
  };

  for (const auto& t : options.children("topics")) {
    TopicBinding b;
    b.topic = t.get_string("topic");
    if (b.topic.empty()) t.fail("topic", "a topic name is required");
    if (b.topic.front() == '^')
      t.fail("topic", "topic patterns are not supported; list each topic by name");
    for (const auto& existing : o.topics)
      if (existing.topic == b.topic) t.fail("topic", "topic '" + b.topic + "' is listed twice");
    const sdk::ConfigView target = t.child("target");
    for (const char* key : {"exchange", "region", "request_type"})
      if (target.get_string(key).empty()) target.fail(key, "is required");
    b.target = {target.get_string("exchange"), target.get_string("region"),
                target.get_string("request_type")};
    const std::string symbol_field = t.get_string("symbol_field");
    if (symbol_field.empty()) t.fail("symbol_field", "the JSON member of the symbol is required");
    try {
      b.fields = std::make_shared<const MessageFields>(symbol_field, t.get_string("time_field"),
                                                       t.get_string("symbol_regex"));
    } catch (const std::invalid_argument& e) {
      t.fail("symbol_regex", e.what());
    }
    o.topics.push_back(std::move(b));
  }
  if (o.topics.empty()) options.fail("topics", "at least one topic is required");
  return o;
}

}  // namespace crosscut::kafka
