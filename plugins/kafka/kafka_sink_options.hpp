// The options of the `kafka` record sink, declared once in its option table, and their
// translation into librdkafka producer properties.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "crosscut/sdk/config.hpp"
#include "crosscut/sdk/options.hpp"
#include "crosscut/sdk/overflow.hpp"
#include "kafka_conf.hpp"

namespace crosscut::kafka {

struct KafkaSinkOptions {
  std::string brokers;
  std::string client_id = "crosscut";
  std::string acks = "all";  // all, 1 or 0
  bool idempotence = true;
  std::string compression = "none";  // a librdkafka compression.codec
  std::chrono::milliseconds linger{5};
  sdk::ByteSize batch_size{1000000};
  std::int64_t queue_max_messages = 100000;
  sdk::ByteSize queue_max_size{std::uint64_t{1} << 30};
  std::chrono::milliseconds message_timeout{std::chrono::minutes(5)};  // 0: never
  // `on_full: drop` is drop_newest: the record being published is refused.
  sdk::OverflowPolicy on_full = sdk::OverflowPolicy::block;
  std::chrono::milliseconds block_timeout{100};
  // How long destruction waits for outstanding deliveries before purging them (they complete
  // as retriable).
  std::chrono::milliseconds shutdown_timeout{10'000};
  // `properties:` (any librdkafka property) is read by make_client, for the entries' positions.
};

const sdk::OptionTable<KafkaSinkOptions>& kafka_sink_options();

// The librdkafka producer properties of `options`. Throws ConfigError at the option for what
// the host does not check: empty brokers, and a contradiction librdkafka would refuse without
// naming the option (idempotence without acks=all).
std::vector<Property> producer_properties(const KafkaSinkOptions& options,
                                          const sdk::ConfigView& view);

}  // namespace crosscut::kafka
