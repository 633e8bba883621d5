// The options of the `kafka` input: schema, and what they are read into.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "crosscut/sdk/config.hpp"
#include "crosscut/sdk/events.hpp"
#include "kafka_conf.hpp"
#include "message_fields.hpp"

namespace crosscut::kafka {

// One consumed topic and how its messages are counted.
struct TopicBinding {
  std::string topic;
  sdk::Target target;
  std::shared_ptr<const MessageFields> fields;
};

struct KafkaInputOptions {
  std::vector<Property> properties;  // librdkafka properties from the input's own options
  std::vector<TopicBinding> topics;
  std::chrono::milliseconds commit_interval{1000};
};

sdk::ConfigSchema kafka_input_schema();

KafkaInputOptions read_kafka_input_options(const sdk::ConfigView& options);

}  // namespace crosscut::kafka
