#include "kafka_record_sink.hpp"

#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <utility>

namespace crosscut::kafka {
namespace {

using namespace std::chrono_literals;

constexpr auto kPollInterval = 50ms;
constexpr auto kFlushSlice = std::chrono::milliseconds(10);
// A failing sink logs undelivered error reports at most this often (with the count since).
constexpr auto kFailureLogInterval = 10s;

void* origin_opaque(sdk::RecordOrigin origin) {
  // librdkafka hands the per-message opaque back untouched; it is never dereferenced.
  return reinterpret_cast<void*>(  // NOLINT(performance-no-int-to-ptr)
      static_cast<std::uintptr_t>(origin));
}

sdk::RecordOrigin origin_of(const rd_kafka_message_t& m) {
  return static_cast<sdk::RecordOrigin>(reinterpret_cast<std::uintptr_t>(m._private));
}

}  // namespace

KafkaRecordSink::KafkaRecordSink(const KafkaSinkOptions& options, const sdk::ConfigView& view,
                                 sdk::HostContext& host)
    : ClientOpaque(host.logger("kafka_sink", "app")),
      host_(host),
      log_(host.logger("kafka_sink", "app")),
      options_(options),
      brokers_outage_(log_, options_.client_id) {
  rk_ = make_client(RD_KAFKA_PRODUCER, producer_properties(options_, view), view, *this,
                    &KafkaRecordSink::on_error, [](rd_kafka_conf_t* conf) {
                      rd_kafka_conf_set_dr_msg_cb(conf, &KafkaRecordSink::on_delivery);
                    });
  poller_ = std::thread([this] { run_poller(); });
}

KafkaRecordSink::~KafkaRecordSink() {
  accepting_.store(false);
  const std::uint64_t target = stats().published;
  if (!wait_completed(target, std::chrono::steady_clock::now() + options_.shutdown_timeout)) {
    shutting_down_.store(true);
    const std::uint64_t left = outstanding();
    log_.error("kafka sink shutting down with records not delivered; dropping them",
               {{"client_id", options_.client_id}, {"records", left}});
    rd_kafka_purge(rk_, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    // Purged records come back as failed delivery reports.
    wait_completed(target, std::chrono::steady_clock::now() + 2s);
  }
  {
    std::lock_guard lock(wait_mu_);
    stop_poller_.store(true);
  }
  progress_.notify_all();
  poller_.join();
  rd_kafka_destroy(rk_);
  // Anything whose report never came (destroy drops pending reports) counts as failed.
  const std::uint64_t left = outstanding();
  if (left > 0) count_failed(left);
}

bool KafkaRecordSink::publish(sdk::Record record) {
  if (!accepting_.load(std::memory_order_relaxed)) {
    count_dropped();
    return false;
  }
  rd_kafka_headers_t* headers = nullptr;
  if (!record.headers.empty()) {
    headers = rd_kafka_headers_new(record.headers.size());
    for (const auto& [name, value] : record.headers)
      rd_kafka_header_add(headers, name.data(), static_cast<ssize_t>(name.size()), value.data(),
                          static_cast<ssize_t>(value.size()));
  }
  std::chrono::steady_clock::time_point deadline{};
  rd_kafka_resp_err_t error;
  for (;;) {
    // An empty key is sent as no key (the partitioner spreads such records).
    error = rd_kafka_producev(
        rk_, RD_KAFKA_V_TOPIC(record.topic.c_str()),
        RD_KAFKA_V_KEY(record.key.empty() ? nullptr : record.key.data(), record.key.size()),
        RD_KAFKA_V_VALUE(record.payload.data(), record.payload.size()),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_HEADERS(headers),
        RD_KAFKA_V_OPAQUE(origin_opaque(record.origin)), RD_KAFKA_V_END);
    if (error == RD_KAFKA_RESP_ERR_NO_ERROR) {
      count_published();
      return true;  // librdkafka owns the headers now
    }
    if (error != RD_KAFKA_RESP_ERR__QUEUE_FULL || options_.on_full != sdk::OverflowPolicy::block)
      break;
    if (deadline == std::chrono::steady_clock::time_point{})
      deadline = std::chrono::steady_clock::now() + options_.block_timeout;
    if (!wait_for_space(deadline)) break;
  }
  if (headers != nullptr) rd_kafka_headers_destroy(headers);
  count_dropped();
  if (error != RD_KAFKA_RESP_ERR__QUEUE_FULL) report_refusal(record, error);
  return false;
}

bool KafkaRecordSink::wait_for_space(std::chrono::steady_clock::time_point deadline) {
  // Queue space frees as the poller serves delivery reports; it wakes us after each poll.
  // The short wait bounds a wake-up lost between our failed attempt and the wait.
  const auto now = std::chrono::steady_clock::now();
  if (now >= deadline) return false;
  waiters_.fetch_add(1);
  {
    std::unique_lock lock(wait_mu_);
    progress_.wait_until(lock, std::min(deadline, now + 5ms));
  }
  waiters_.fetch_sub(1);
  return accepting_.load(std::memory_order_relaxed);
}

bool KafkaRecordSink::flush(std::chrono::steady_clock::time_point deadline) {
  const std::uint64_t target = stats().published;
  if (wait_completed(target, deadline)) return true;
  log_.warning("kafka sink flush deadline passed with records not delivered",
               {{"client_id", options_.client_id}, {"records", outstanding()}});
  return false;
}

bool KafkaRecordSink::wait_completed(std::uint64_t target,
                                     std::chrono::steady_clock::time_point deadline) {
  auto done = [&] {
    const sdk::DeliveryStats s = stats();
    return s.delivered + s.failed >= target;
  };
  if (done()) return true;
  // This thread serves the delivery reports while it waits, alone: a report taken by the
  // poller would leave rd_kafka_flush waiting out its slice. So the poller parks, and
  // rd_kafka_yield wakes it out of a poll it is in.
  {
    std::lock_guard lock(wait_mu_);
    ++flushing_;
  }
  rd_kafka_yield(rk_);
  bool ok = true;
  while (!done()) {
    const auto left =
        std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      ok = false;
      break;
    }
    // While rd_kafka_flush runs, librdkafka sends lingering batches at once. Short slices:
    // records published by others meanwhile do not hold us beyond our own target.
    rd_kafka_flush(rk_, static_cast<int>(std::min(left, kFlushSlice).count()));
  }
  {
    std::lock_guard lock(wait_mu_);
    --flushing_;
  }
  progress_.notify_all();
  return ok;
}

std::uint64_t KafkaRecordSink::outstanding() const {
  const sdk::DeliveryStats s = stats();
  const std::uint64_t done = s.delivered + s.failed;
  return s.published > done ? s.published - done : 0;
}

void KafkaRecordSink::run_poller() {
  while (!stop_poller_.load()) {
    {
      std::unique_lock lock(wait_mu_);
      progress_.wait(lock, [&] { return flushing_ == 0 || stop_poller_.load(); });
    }
    rd_kafka_poll(rk_, static_cast<int>(kPollInterval.count()));
    if (waiters_.load() > 0) {
      std::lock_guard lock(wait_mu_);  // orders the counts before a waiter's predicate check
      progress_.notify_all();
    }
  }
}

void KafkaRecordSink::on_delivery(rd_kafka_t*, const rd_kafka_message_t* message, void* opaque) {
  static_cast<KafkaRecordSink&>(client_of(opaque)).handle_delivery(*message);
}

void KafkaRecordSink::on_error(rd_kafka_t*, int error, const char* reason, void* opaque) {
  static_cast<KafkaRecordSink&>(client_of(opaque))
      .handle_error(static_cast<rd_kafka_resp_err_t>(error), reason);
}

void KafkaRecordSink::handle_delivery(const rd_kafka_message_t& message) {
  if (message.err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    brokers_outage_.recovered("kafka brokers reachable again; delivering");
    count_delivered();
    return;
  }
  const std::string topic = rd_kafka_topic_name(message.rkt);
  if (shutting_down_.load()) {
    // Purged at shutdown: already logged as one summary.
  } else if (origin_of(message) == sdk::RecordOrigin::error_report) {
    host_.add_metric("kafka_sink.undelivered_error_reports", 1);
    std::lock_guard lock(failure_log_mu_);
    ++unlogged_failures_;
    const auto now = std::chrono::steady_clock::now();
    if (last_failure_log_ == std::chrono::steady_clock::time_point{} ||
        now - last_failure_log_ >= kFailureLogInterval) {
      log_.error("kafka sink could not deliver error reports (not re-reported as errors)",
                 {{"client_id", options_.client_id},
                  {"topic", topic},
                  {"error", rd_kafka_err2str(message.err)},
                  {"records", unlogged_failures_}});
      last_failure_log_ = now;
      unlogged_failures_ = 0;
    }
  } else {
    report("KafkaDeliveryError", rd_kafka_err2str(message.err), topic,
           sdk::Value::object({{"topic", topic},
                               {"partition", message.partition},
                               {"error", rd_kafka_err2name(message.err)},
                               {"client_id", options_.client_id}}));
  }
  // Counted after the report, so a flush that returns has seen it.
  count_failed();
}

void KafkaRecordSink::handle_error(rd_kafka_resp_err_t error, const char* reason) {
  if (error == RD_KAFKA_RESP_ERR__FATAL) {
    char text[512];
    const rd_kafka_resp_err_t cause = rd_kafka_fatal_error(rk_, text, sizeof text);
    log_.critical(
        "kafka producer failed fatally; records can no longer be delivered",
        {{"client_id", options_.client_id}, {"error", rd_kafka_err2name(cause)}, {"reason", text}});
    report("KafkaFatalError", text, "produce",
           sdk::Value::object(
               {{"error", rd_kafka_err2name(cause)}, {"client_id", options_.client_id}}));
    return;
  }
  if (error == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN) {
    if (!brokers_outage_.failure(
            "kafka brokers unreachable; records stay queued until they come back", reason))
      return;
    report("KafkaBrokersDown", reason, "produce",
           sdk::Value::object({{"brokers", options_.brokers}, {"client_id", options_.client_id}}));
    return;
  }
  // Transient errors (a broker connection lost, a resolve failure) that librdkafka retries by
  // itself; during an outage they add nothing to the report above.
  log_.log(
      brokers_outage_.in_outage() ? sdk::Level::debug : sdk::Level::warning, "kafka client error",
      {{"client_id", options_.client_id}, {"error", rd_kafka_err2name(error)}, {"reason", reason}});
}

void KafkaRecordSink::report_refusal(const sdk::Record& record, rd_kafka_resp_err_t error) {
  if (record.origin == sdk::RecordOrigin::error_report) {
    host_.add_metric("kafka_sink.undelivered_error_reports", 1);
    log_.error("kafka sink refused an error report (not re-reported as an error)",
               {{"topic", record.topic}, {"error", rd_kafka_err2str(error)}});
    return;
  }
  report("KafkaProduceRefused", rd_kafka_err2str(error), record.topic,
         sdk::Value::object({{"topic", record.topic},
                             {"error", rd_kafka_err2name(error)},
                             {"payload_bytes", record.payload.size()},
                             {"client_id", options_.client_id}}));
}

void KafkaRecordSink::report(std::string type, std::string message, std::string request_type,
                             sdk::Value context) {
  sdk::ErrorEvent e;
  e.kind = "kafka_producer";
  e.info.type = std::move(type);
  e.info.message = std::move(message);
  e.target = {"kafka", options_.client_id, std::move(request_type)};
  e.context = std::move(context);
  e.timestamp = host_.clock().now();
  host_.report_error(std::move(e));
}

}  // namespace crosscut::kafka
