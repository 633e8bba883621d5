#include "kafka_input.hpp"

#include <cstring>
#include <string_view>
#include <utility>
#include <vector>

#include "kafka_handle.hpp"

namespace crosscut::kafka {
namespace {

constexpr int kPollMs = 100;

}  // namespace

void KafkaInput::check_options(const KafkaInputOptions& options, const sdk::ConfigView& view,
                               sdk::HostContext&) {
  bind_topics(options, view);
  check_client(RD_KAFKA_CONSUMER, consumer_properties(options, view), view);
}

std::vector<sdk::ServerCheck> KafkaInput::probe_servers(const KafkaInputOptions& options,
                                                        const sdk::ConfigView& view,
                                                        sdk::HostContext&,
                                                        std::chrono::milliseconds timeout) {
  return {probe_brokers(RD_KAFKA_CONSUMER, consumer_properties(options, view), view,
                        options.brokers, timeout)};
}

KafkaInput::KafkaInput(const KafkaInputOptions& options, const sdk::ConfigView& view,
                       sdk::HostContext& host)
    : ClientOpaque(host.logger("kafka_input", "app")),
      host_(host),
      log_(host.logger("kafka_input", "app")),
      topics_(bind_topics(options, view)),
      commit_interval_(options.commit_interval) {
  for (const auto& t : topics_) by_topic_.emplace(t.topic, &t);
  rk_ = make_client(RD_KAFKA_CONSUMER, consumer_properties(options, view), view, *this,
                    &KafkaInput::on_error, [](rd_kafka_conf_t* conf) {
                      rd_kafka_conf_set_rebalance_cb(conf, &KafkaInput::on_rebalance);
                    });
  rd_kafka_poll_set_consumer(rk_);
}

KafkaInput::~KafkaInput() {
  if (!closed_) rd_kafka_consumer_close(rk_);
  rd_kafka_destroy(rk_);
}

void KafkaInput::run(sdk::InputSink& sink, std::stop_token stop) {
  PartitionListHandle topics(rd_kafka_topic_partition_list_new(static_cast<int>(by_topic_.size())));
  for (const auto& t : topics_)
    rd_kafka_topic_partition_list_add(topics.get(), t.topic.c_str(), RD_KAFKA_PARTITION_UA);
  if (const auto error = rd_kafka_subscribe(rk_, topics.get()))
    throw std::runtime_error(std::string("kafka input cannot subscribe: ") +
                             rd_kafka_err2str(error));

  auto next_commit = std::chrono::steady_clock::now() + commit_interval_;
  while (!stop.stop_requested()) {
    MessageHandle message(rd_kafka_consumer_poll(rk_, kPollMs));
    if (message) handle(*message, sink);
    if (std::chrono::steady_clock::now() >= next_commit) {
      commit(false);
      next_commit = std::chrono::steady_clock::now() + commit_interval_;
    }
  }
  commit(true);
  closed_ = true;
  // Leaves the group; the revocation callback commits anything stored since.
  if (const auto error = rd_kafka_consumer_close(rk_))
    log_.warning("kafka input did not leave its group cleanly",
                 {{"error", rd_kafka_err2str(error)}});
}

void KafkaInput::handle(const rd_kafka_message_t& message, sdk::InputSink& sink) {
  if (message.err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    if (message.err == RD_KAFKA_RESP_ERR__PARTITION_EOF) return;
    std::string detail = rd_kafka_message_errstr(&message);
    report_consumer_error(message.err, detail);
    return;
  }
  last_reported_ = RD_KAFKA_RESP_ERR_NO_ERROR;  // messages flow: a new error is news again
  const char* topic = rd_kafka_topic_name(message.rkt);
  auto it = by_topic_.find(topic);
  if (it != by_topic_.end()) {
    std::string reason;
    const std::string_view payload(static_cast<const char*>(message.payload), message.len);
    if (auto read = it->second->fields->read(payload, reason)) {
      sink.on_message(it->second->target, read->symbol, read->time_ms);
    } else {
      const std::string where =
          "kafka:" + std::string(topic) + "/" + std::to_string(message.partition);
      sink.on_bad_input({where, static_cast<std::uint64_t>(message.offset)}, reason);
    }
  }
  // Processed (counted or reported): now it may be committed.
  if (rd_kafka_offset_store(message.rkt, message.partition, message.offset) ==
      RD_KAFKA_RESP_ERR_NO_ERROR)
    ++stored_since_commit_;
}

void KafkaInput::commit(bool wait) {
  if (stored_since_commit_ == 0) return;
  const auto error = rd_kafka_commit(rk_, nullptr, wait ? 0 : 1);
  if (error == RD_KAFKA_RESP_ERR_NO_ERROR || error == RD_KAFKA_RESP_ERR__NO_OFFSET) {
    stored_since_commit_ = 0;
    return;
  }
  // Kept stored: the next commit retries them.
  log_.warning("kafka input could not commit offsets; retrying at the next commit",
               {{"error", rd_kafka_err2str(error)}});
}

void KafkaInput::on_rebalance(rd_kafka_t* rk, rd_kafka_resp_err_t error,
                              rd_kafka_topic_partition_list_t* partitions, void* opaque) {
  auto& self = static_cast<KafkaInput&>(client_of(opaque));
  const bool cooperative = std::strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE") == 0;
  if (error == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    if (cooperative)
      rd_kafka_error_destroy(rd_kafka_incremental_assign(rk, partitions));
    else
      rd_kafka_assign(rk, partitions);
    self.log_.info("kafka input assigned partitions", {{"partitions", partitions->cnt}});
    return;
  }
  // Revoked (or lost): commit what was processed before another member takes over.
  if (error == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS && !rd_kafka_assignment_lost(rk))
    self.commit(true);
  self.stored_since_commit_ = 0;
  if (cooperative)
    rd_kafka_error_destroy(rd_kafka_incremental_unassign(rk, partitions));
  else
    rd_kafka_assign(rk, nullptr);
}

void KafkaInput::on_error(rd_kafka_t*, int error, const char* reason, void* opaque) {
  static_cast<KafkaInput&>(client_of(opaque))
      .report_consumer_error(static_cast<rd_kafka_resp_err_t>(error), reason);
}

void KafkaInput::report_consumer_error(rd_kafka_resp_err_t error, const std::string& detail) {
  const bool transient =
      error == RD_KAFKA_RESP_ERR__TRANSPORT || error == RD_KAFKA_RESP_ERR__RESOLVE;
  if (error == last_reported_ || transient) {
    log_.debug("kafka consumer error", {{"error", rd_kafka_err2name(error)}, {"detail", detail}});
    return;
  }
  last_reported_ = error;
  log_.error("kafka consumer error", {{"error", rd_kafka_err2name(error)}, {"detail", detail}});
  sdk::ErrorEvent e;
  e.kind = "kafka_consumer";
  e.info.type = "KafkaConsumerError";
  e.info.message = detail;
  e.target = {"kafka", "", "consume"};
  e.context = sdk::Value::object({{"error", rd_kafka_err2name(error)}});
  e.timestamp = host_.clock().now();
  host_.report_error(std::move(e));
}

}  // namespace crosscut::kafka
