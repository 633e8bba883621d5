#include "kafka_sink_options.hpp"

#include <algorithm>

namespace crosscut::kafka {

const sdk::OptionTable<KafkaSinkOptions>& kafka_sink_options() {
  using O = KafkaSinkOptions;
  static const sdk::OptionTable<O> table{
      sdk::bind_option("brokers", &O::brokers,
                       "bootstrap servers, host:port[,host:port...] (librdkafka bootstrap.servers)")
          .required(),
      sdk::bind_option("client_id", &O::client_id, "client.id sent to the brokers"),
      sdk::bind_option("acks", &O::acks,
                       "acknowledgements a write needs: all, 1 or 0 (all with idempotence)")
          .one_of({"all", "1", "0"}),
      sdk::bind_option("idempotence", &O::idempotence,
                       "idempotent producer: retries never duplicate or reorder records"),
      sdk::bind_option("compression", &O::compression, "batch compression codec")
          .one_of({"none", "gzip", "snappy", "lz4", "zstd"}),
      sdk::bind_option("linger", &O::linger,
                       "how long records wait to fill a batch (librdkafka linger.ms)"),
      sdk::bind_option("batch_size", &O::batch_size,
                       "largest batch sent to one partition, in bytes")
          .positive(),
      // librdkafka's own bounds of queue.buffering.max.messages.
      sdk::bind_option("queue_max_messages", &O::queue_max_messages,
                       "records waiting in the local queue before on_full applies")
          .min(1)
          .max(2147483647),
      sdk::bind_option("queue_max_size", &O::queue_max_size,
                       "bytes waiting in the local queue before on_full applies")
          .positive(),
      sdk::bind_option("message_timeout", &O::message_timeout,
                       "a record not delivered by then fails as retriable (0: never)"),
      sdk::bind_option("on_full", &O::on_full,
                       "local queue full: block (up to block_timeout, then drop) or drop (counted)")
          .choices(
              {{"block", sdk::OverflowPolicy::block}, {"drop", sdk::OverflowPolicy::drop_newest}}),
      sdk::bind_option("block_timeout", &O::block_timeout,
                       "with on_full: block, the longest publish waits for queue space")
          .positive(),
      sdk::bind_option("shutdown_timeout", &O::shutdown_timeout,
                       "destruction waits this long for outstanding records, then hands them back")
          .positive(),
      sdk::unbound("properties", sdk::OptionType::string_map,
                   "any librdkafka producer property (SASL/SSL...); secrets via ${ENV}"),
  };
  return table;
}

std::vector<Property> producer_properties(const KafkaSinkOptions& o, const sdk::ConfigView& view) {
  // Present but empty passes the host's `required` check; it names no broker.
  if (o.brokers.empty()) view.fail("brokers", "at least one host:port is required");
  if (o.idempotence && o.acks != "all")
    view.fail("acks", "must be all when idempotence is true (got " + o.acks + ")");
  // librdkafka counts the queue in KiB, at least 1.
  const auto queue_kbytes = std::max<std::uint64_t>(1, o.queue_max_size.bytes / 1024);
  return {
      {"bootstrap.servers", o.brokers, "brokers"},
      {"client.id", o.client_id, "client_id"},
      {"enable.idempotence", o.idempotence ? "true" : "false", "idempotence"},
      {"acks", o.acks == "all" ? "-1" : o.acks, "acks"},
      {"compression.codec", o.compression, "compression"},
      {"linger.ms", std::to_string(o.linger.count()), "linger"},
      {"batch.size", std::to_string(o.batch_size.bytes), "batch_size"},
      {"queue.buffering.max.messages", std::to_string(o.queue_max_messages), "queue_max_messages"},
      {"queue.buffering.max.kbytes", std::to_string(queue_kbytes), "queue_max_size"},
      {"message.timeout.ms", std::to_string(o.message_timeout.count()), "message_timeout"},
  };
}

}  // namespace crosscut::kafka
