// The options of the `kafka` input, declared once in its option table, their translation into
// librdkafka consumer properties, and the topics they bind.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "crosscut/sdk/config.hpp"
#include "crosscut/sdk/events.hpp"
#include "crosscut/sdk/options.hpp"
#include "kafka_conf.hpp"
#include "message_fields.hpp"

namespace crosscut::kafka {

// One entry of `topics:`.
struct TopicOptions {
  std::string topic;
  sdk::Target target;  // the connection the messages are counted for
  std::string symbol_field;
  std::string time_field;    // empty: counted in the minute of arrival
  std::string symbol_regex;  // empty: the symbol as written
};

struct KafkaInputOptions {
  std::string brokers;
  std::string group_id;
  std::string client_id = "crosscut";
  std::string auto_offset_reset = "latest";  // earliest or latest
  std::chrono::milliseconds commit_interval{1000};
  std::vector<TopicOptions> topics;
  // `properties:` (any librdkafka property) is read by make_client, for the entries' positions.
};

const sdk::OptionTable<KafkaInputOptions>& kafka_input_options();

// The librdkafka consumer properties of `options`. Throws ConfigError at an option the host
// does not check enough (an empty broker list or group).
std::vector<Property> consumer_properties(const KafkaInputOptions& options,
                                          const sdk::ConfigView& view);

// One consumed topic and how its messages are counted.
struct TopicBinding {
  std::string topic;
  sdk::Target target;
  std::shared_ptr<const MessageFields> fields;
};

// The topics of `options`, each with its compiled fields. Throws ConfigError at the entry's
// option for an empty list or value, a topic pattern, a topic listed twice or a bad
// symbol_regex (RE2's message).
std::vector<TopicBinding> bind_topics(const KafkaInputOptions& options,
                                      const sdk::ConfigView& view);

}  // namespace crosscut::kafka
