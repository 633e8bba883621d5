#include "kafka_sink_options.hpp"

#include <algorithm>
#include <array>
#include <string_view>
#include <utility>

namespace crosscut::kafka {

using sdk::OptionSpec;
using sdk::OptionType;

sdk::ConfigSchema kafka_sink_schema() {
  return {
      {.key = "brokers",
       .type = OptionType::string,
       .description = "bootstrap servers, host:port[,host:port...] (librdkafka bootstrap.servers)",
       .required = true},
      {.key = "client_id",
       .type = OptionType::string,
       .default_value = "crosscut",
       .description = "client.id sent to the brokers"},
      {.key = "acks",
       .type = OptionType::string,
       .default_value = "all",
       .description = "acknowledgements a write needs: all, 1 or 0 (all with idempotence)",
       .choices = {"all", "1", "0"}},
      {.key = "idempotence",
       .type = OptionType::boolean,
       .default_value = "true",
       .description = "idempotent producer: retries never duplicate or reorder records"},
      {.key = "compression",
       .type = OptionType::string,
       .default_value = "none",
       .description = "batch compression codec",
       .choices = {"none", "gzip", "snappy", "lz4", "zstd"}},
      {.key = "linger",
       .type = OptionType::duration,
       .default_value = "5ms",
       .description = "how long records wait to fill a batch (librdkafka linger.ms)"},
      {.key = "batch_size",
       .type = OptionType::size,
       .default_value = "1000000",
       .description = "largest batch sent to one partition, in bytes",
       .positive = true},
      {.key = "queue_max_messages",
       .type = OptionType::integer,
       .default_value = "100000",
       .description = "records waiting in the local queue before on_full applies",
       .min = 1},
      {.key = "queue_max_size",
       .type = OptionType::size,
       .default_value = "1GiB",
       .description = "bytes waiting in the local queue before on_full applies",
       .positive = true},
      {.key = "message_timeout",
       .type = OptionType::duration,
       .default_value = "5m",
       .description = "a record not delivered by then fails permanently (0: never)"},
      {.key = "on_full",
       .type = OptionType::string,
       .default_value = "block",
       .description = "local queue full: block (up to block_timeout, then drop) or drop (counted)",
       .choices = {"block", "drop"}},
      {.key = "block_timeout",
       .type = OptionType::duration,
       .default_value = "100ms",
       .description = "with on_full: block, the longest publish waits for queue space",
       .positive = true},
      {.key = "shutdown_timeout",
       .type = OptionType::duration,
       .default_value = "10s",
       .description = "destruction waits this long for outstanding records, then drops them",
       .positive = true},
      {.key = "properties",
       .type = OptionType::string_map,
       .description = "any librdkafka producer property (SASL/SSL...); secrets via ${ENV}"},
  };
}

KafkaSinkOptions read_kafka_sink_options(const sdk::ConfigView& options) {
  KafkaSinkOptions o;
  o.brokers = options.get_string("brokers");
  if (o.brokers.empty()) options.fail("brokers", "at least one host:port is required");

  const std::string acks = options.get_string("acks", "all");
  const bool idempotence = options.get_bool("idempotence", true);
  if (idempotence && acks != "all")
    options.fail("acks", "must be all when idempotence is true (got " + acks + ")");
  const std::string compression = options.get_string("compression", "none");
  static constexpr std::array<std::string_view, 5> codecs{"none", "gzip", "snappy", "lz4", "zstd"};
  if (std::find(codecs.begin(), codecs.end(), compression) == codecs.end())
    options.fail("compression",
                 "expected none, gzip, snappy, lz4 or zstd, got '" + compression + "'");
  const auto queue_messages = options.get_int("queue_max_messages", 100000);
  if (queue_messages < 1 || queue_messages > 2147483647)
    options.fail("queue_max_messages", "must be between 1 and 2147483647");
  const auto queue_bytes = options.get_size("queue_max_size", 1ull << 30);
  const auto queue_kbytes = std::max<std::uint64_t>(1, queue_bytes / 1024);
  const auto batch = options.get_size("batch_size", 1000000);

  o.properties = {
      {"bootstrap.servers", o.brokers, "brokers"},
      {"client.id", options.get_string("client_id", "crosscut"), "client_id"},
      {"enable.idempotence", idempotence ? "true" : "false", "idempotence"},
      {"acks", acks == "all" ? "-1" : acks, "acks"},
      {"compression.codec", compression, "compression"},
      {"linger.ms", milliseconds(options, "linger", std::chrono::milliseconds(5)), "linger"},
      {"batch.size", std::to_string(batch), "batch_size"},
      {"queue.buffering.max.messages", std::to_string(queue_messages), "queue_max_messages"},
      {"queue.buffering.max.kbytes", std::to_string(queue_kbytes), "queue_max_size"},
      {"message.timeout.ms", milliseconds(options, "message_timeout", std::chrono::minutes(5)),
       "message_timeout"},
  };

  const std::string on_full = options.get_string("on_full", "block");
  if (on_full != "block" && on_full != "drop")
    options.fail("on_full", "expected block or drop, got '" + on_full + "'");
  o.on_full = on_full == "drop" ? KafkaSinkOptions::OnFull::drop : KafkaSinkOptions::OnFull::block;
  o.block_timeout = std::chrono::ceil<std::chrono::milliseconds>(
      options.get_duration("block_timeout", std::chrono::milliseconds(100)));
  if (o.block_timeout.count() <= 0) options.fail("block_timeout", "must be > 0");
  o.shutdown_timeout = std::chrono::ceil<std::chrono::milliseconds>(
      options.get_duration("shutdown_timeout", std::chrono::seconds(10)));
  return o;
}

}  // namespace crosscut::kafka
