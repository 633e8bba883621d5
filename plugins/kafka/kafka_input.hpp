// The `kafka` input of agent mode: consumes market-data topics in a consumer group and counts
// each message for its topic's target, symbol and event time.
#pragma once

#include <chrono>
#include <cstdint>
#include <stop_token>
#include <string>
#include <unordered_map>
#include <vector>

#include "crosscut/sdk/host_context.hpp"
#include "crosscut/sdk/input.hpp"
#include "kafka_conf.hpp"
#include "kafka_input_options.hpp"

namespace crosscut::kafka {

// run() is called once, on its own thread; nothing else is called concurrently with it except
// destruction after it returned. Each message is handed to InputSink::on_message (or, when it
// is not JSON or lacks the configured fields, to on_bad_input, with "kafka:<topic>/<partition>"
// and the message offset as its position) and only then stored for commit; stored offsets are
// committed every commit_interval, before partitions are revoked, and when run() returns. So
// a restart never skips a message that was not processed. run() returns within about 100 ms
// of a stop request (plus leaving the group). Consumer errors are logged and reported as
// `kafka_consumer` errors once per error code until messages flow again; they never stop run().
class KafkaInput final : public sdk::Input, private ClientOpaque {
 public:
  static const sdk::OptionTable<KafkaInputOptions>& options_table() {
    return kafka_input_options();
  }
  // Throws ConfigError (at the offending option) for a topic that cannot be bound or when
  // librdkafka refuses the configuration.
  // The topics' fields and what librdkafka refuses, checked on a client that contacts no broker.
  static void check_options(const KafkaInputOptions& options, const sdk::ConfigView& view,
                            sdk::HostContext& host);
  static std::vector<sdk::ServerCheck> probe_servers(const KafkaInputOptions& options,
                                                     const sdk::ConfigView& view,
                                                     sdk::HostContext& host,
                                                     std::chrono::milliseconds timeout);
  KafkaInput(const KafkaInputOptions& options, const sdk::ConfigView& view, sdk::HostContext& host);
  ~KafkaInput() override;

  void run(sdk::InputSink& sink, std::stop_token stop) override;

 private:
  static void on_rebalance(rd_kafka_t* rk, rd_kafka_resp_err_t error,
                           rd_kafka_topic_partition_list_t* partitions, void* opaque);
  static void on_error(rd_kafka_t* rk, int error, const char* reason, void* opaque);

  void handle(const rd_kafka_message_t& message, sdk::InputSink& sink);
  void report_consumer_error(rd_kafka_resp_err_t error, const std::string& detail);
  void commit(bool wait);

  sdk::HostContext& host_;
  sdk::Logger& log_;
  const std::vector<TopicBinding> topics_;
  const std::chrono::milliseconds commit_interval_;
  std::unordered_map<std::string, const TopicBinding*> by_topic_;
  rd_kafka_t* rk_ = nullptr;
  bool closed_ = false;

  // The run() thread only (librdkafka calls the callbacks from the consumer poll).
  std::uint64_t stored_since_commit_ = 0;
  rd_kafka_resp_err_t last_reported_ = RD_KAFKA_RESP_ERR_NO_ERROR;
};

}  // namespace crosscut::kafka
