// The options of the `kafka` record sink: schema, and their translation into librdkafka
// properties plus the sink's own settings.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "crosscut/sdk/config.hpp"
#include "kafka_conf.hpp"

namespace crosscut::kafka {

struct KafkaSinkOptions {
  enum class OnFull { block, drop };
  std::vector<Property> properties;  // librdkafka properties from the sink's own options
  std::string brokers;
  OnFull on_full = OnFull::block;
  std::chrono::milliseconds block_timeout{100};
  // How long destruction waits for outstanding deliveries before purging them.
  std::chrono::milliseconds shutdown_timeout{10'000};
};

sdk::ConfigSchema kafka_sink_schema();

// Reads checked options; throws ConfigError for contradictions (e.g. idempotence without
// acks=all).
KafkaSinkOptions read_kafka_sink_options(const sdk::ConfigView& options);

}  // namespace crosscut::kafka
