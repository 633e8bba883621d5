#include "kafka_record_sink.hpp"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <memory>
#include <string_view>
#include <utility>

namespace crosscut::kafka {
namespace {

using namespace std::chrono_literals;

constexpr auto kPollInterval = 50ms;
constexpr auto kFlushSlice = std::chrono::milliseconds(10);
// A failing sink logs failures of one sort at most this often (with the count since).
constexpr auto kFailureLogInterval = 10s;
constexpr std::string_view kIdHeader = "crosscut-id";

// Errors no retry of the same record can fix.
bool is_permanent(rd_kafka_resp_err_t error) {
  switch (error) {
    case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
    case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
    case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
    case RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION:
    case RD_KAFKA_RESP_ERR__INVALID_ARG:
    case RD_KAFKA_RESP_ERR_INVALID_RECORD:
    case RD_KAFKA_RESP_ERR__FATAL:
      return true;
    default:
      return false;
  }
}

// librdkafka's error name as a stable lower-case kind: "_MSG_TIMED_OUT" -> "msg_timed_out".
std::string kind_of(rd_kafka_resp_err_t error) {
  std::string_view name = rd_kafka_err2name(error);
  while (!name.empty() && name.front() == '_') name.remove_prefix(1);
  std::string kind(name);
  std::transform(kind.begin(), kind.end(), kind.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return kind;
}

bool due(std::chrono::steady_clock::time_point last, std::chrono::steady_clock::time_point now) {
  return last == std::chrono::steady_clock::time_point{} || now - last >= kFailureLogInterval;
}

}  // namespace

void KafkaRecordSink::check_options(const KafkaSinkOptions& options, const sdk::ConfigView& view,
                                    sdk::HostContext&) {
  check_client(RD_KAFKA_PRODUCER, producer_properties(options, view), view);
}

std::vector<sdk::ServerCheck> KafkaRecordSink::probe_servers(const KafkaSinkOptions& options,
                                                             const sdk::ConfigView& view,
                                                             sdk::HostContext&,
                                                             std::chrono::milliseconds timeout) {
  return {probe_brokers(RD_KAFKA_PRODUCER, producer_properties(options, view), view,
                        options.brokers, timeout)};
}

KafkaRecordSink::KafkaRecordSink(const KafkaSinkOptions& options, const sdk::ConfigView& view,
                                 sdk::HostContext& host)
    : ClientOpaque(host.logger("kafka_sink", "app")),
      host_(host),
      log_(host.logger("kafka_sink", "app")),
      options_(options),
      brokers_outage_(log_, options_.client_id) {
  in_flight_.prev = in_flight_.next = &in_flight_;
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
    log_.error(
        "kafka sink shutting down with records not delivered; handing them back as retriable",
        {{"client_id", options_.client_id}, {"records", outstanding()}});
    rd_kafka_purge(rk_, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    // Purged records come back as retriable delivery reports.
    wait_completed(target, std::chrono::steady_clock::now() + 2s);
  }
  {
    std::lock_guard lock(wait_mu_);
    stop_poller_.store(true);
  }
  progress_.notify_all();
  poller_.join();
  rd_kafka_destroy(rk_);
  // rd_kafka_destroy drops reports still pending: their records complete here. No callback
  // runs any more, so the list is ours alone.
  const std::string kind = kind_of(RD_KAFKA_RESP_ERR__DESTROY);
  while (in_flight_.next != &in_flight_) {
    std::unique_ptr<InFlight> entry(in_flight_.next);
    untrack(entry.get());
    fail(entry->receipt, sdk::DeliveryOutcome::retriable, kind,
         rd_kafka_err2str(RD_KAFKA_RESP_ERR__DESTROY));
  }
}

KafkaRecordSink::InFlight* KafkaRecordSink::track(const sdk::Record& record) {
  auto* entry = new InFlight{record.receipt, record.origin};
  std::lock_guard lock(in_flight_mu_);
  entry->prev = &in_flight_;
  entry->next = in_flight_.next;
  in_flight_.next->prev = entry;
  in_flight_.next = entry;
  return entry;
}

void KafkaRecordSink::untrack(InFlight* entry) {
  std::lock_guard lock(in_flight_mu_);
  entry->prev->next = entry->next;
  entry->next->prev = entry->prev;
  entry->prev = entry->next = nullptr;
}

bool KafkaRecordSink::publish(sdk::Record record) {
  if (!accepting_.load(std::memory_order_relaxed)) {
    count_dropped();
    return false;
  }
  rd_kafka_headers_t* headers = nullptr;
  if (!record.headers.empty() || !record.id.empty()) {
    headers = rd_kafka_headers_new(record.headers.size() + 1);
    for (const auto& [name, value] : record.headers)
      rd_kafka_header_add(headers, name.data(), static_cast<ssize_t>(name.size()), value.data(),
                          static_cast<ssize_t>(value.size()));
    if (!record.id.empty())
      rd_kafka_header_add(headers, kIdHeader.data(), static_cast<ssize_t>(kIdHeader.size()),
                          record.id.data(), static_cast<ssize_t>(record.id.size()));
  }
  // Owned by librdkafka once produced; freed by the delivery report (or the destructor).
  InFlight* entry = track(record);
  std::chrono::steady_clock::time_point deadline{};
  rd_kafka_resp_err_t error;
  for (;;) {
    // An empty key is sent as no key (the partitioner spreads such records).
    error = rd_kafka_producev(
        rk_, RD_KAFKA_V_TOPIC(record.topic.c_str()),
        RD_KAFKA_V_KEY(record.key.empty() ? nullptr : record.key.data(), record.key.size()),
        RD_KAFKA_V_VALUE(record.payload.data(), record.payload.size()),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_HEADERS(headers),
        RD_KAFKA_V_OPAQUE(entry), RD_KAFKA_V_END);
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
  untrack(entry);
  delete entry;
  if (error == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
    count_dropped();
    return false;
  }
  // Refused for what the record is (too large, unknown topic): accepted and completed now, so
  // that the producer learns the kind of failure.
  count_published();
  complete_failure(record.receipt, record.origin, error, record.topic, RD_KAFKA_PARTITION_UA,
                   record.payload.size(), true);
  return true;
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
  std::unique_ptr<InFlight> entry(static_cast<InFlight*>(message._private));
  untrack(entry.get());
  if (message.err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    brokers_outage_.recovered("kafka brokers reachable again; delivering");
    deliver(entry->receipt);
    return;
  }
  complete_failure(entry->receipt, entry->origin, message.err, rd_kafka_topic_name(message.rkt),
                   message.partition, message.len, false);
}

void KafkaRecordSink::complete_failure(const sdk::DeliveryReceipt& receipt,
                                       sdk::RecordOrigin origin, rd_kafka_resp_err_t error,
                                       const std::string& topic, std::int32_t partition,
                                       std::size_t payload_bytes, bool at_publish) {
  bool permanent = is_permanent(error);
  std::string kind = kind_of(error);
  std::string reason = rd_kafka_err2str(error);
  rd_kafka_resp_err_t named = error;
  char fatal[512];
  if (const rd_kafka_resp_err_t cause = rd_kafka_fatal_error(rk_, fatal, sizeof fatal);
      cause != RD_KAFKA_RESP_ERR_NO_ERROR) {
    // A fatally failed producer delivers nothing any more, whatever the record's own error
    // (its queue is purged): one kind for all of them.
    permanent = true;
    kind = "fatal";
    reason = fatal;
    named = cause;
  }
  std::uint64_t count = 0;
  if (!permanent) {
    // Handed back to the producer, which offers it again. An outage, and the shutdown purge,
    // are logged as a whole elsewhere.
    if (!shutting_down_.load() && !brokers_outage_.in_outage() && log_due(retriable_log_, count))
      log_.warning("kafka sink could not deliver records; handed back for retry",
                   {{"client_id", options_.client_id},
                    {"topic", topic},
                    {"error", reason},
                    {"kind", kind},
                    {"records", count}});
    fail(receipt, sdk::DeliveryOutcome::retriable, kind, reason);
    return;
  }
  if (origin == sdk::RecordOrigin::error_report) {
    host_.add_metric("kafka_sink.undelivered_error_reports", 1);
    if (log_due(error_report_log_, count))
      log_.error("kafka sink could not deliver error reports (not re-reported as errors)",
                 {{"client_id", options_.client_id},
                  {"topic", topic},
                  {"error", reason},
                  {"kind", kind},
                  {"records", count}});
  } else {
    host_.add_metric("kafka_sink.permanent_failures", 1);
    if (first_of_kind(kind)) {
      sdk::Value context = sdk::Value::object({{"topic", topic},
                                               {"error", rd_kafka_err2name(named)},
                                               {"kind", kind},
                                               {"client_id", options_.client_id}});
      if (at_publish)
        context.as_object().emplace_back("payload_bytes", payload_bytes);
      else
        context.as_object().emplace_back("partition", partition);
      report(at_publish ? "KafkaProduceRefused" : "KafkaDeliveryError", reason, topic,
             std::move(context));
    } else if (log_due(permanent_log_, count)) {
      log_.error("kafka sink could not deliver records (each kind reported once as an error)",
                 {{"client_id", options_.client_id},
                  {"topic", topic},
                  {"error", reason},
                  {"kind", kind},
                  {"records", count}});
    }
  }
  // Completed after the report, so a flush that returns has seen it.
  fail(receipt, sdk::DeliveryOutcome::permanent, kind, reason);
}

bool KafkaRecordSink::first_of_kind(const std::string& kind) {
  std::lock_guard lock(failure_mu_);
  return reported_kinds_.insert(kind).second;
}

bool KafkaRecordSink::log_due(RateLimit& limit, std::uint64_t& count) {
  const auto now = std::chrono::steady_clock::now();
  std::lock_guard lock(failure_mu_);
  ++limit.unlogged;
  if (!due(limit.last, now)) return false;
  count = limit.unlogged;
  limit.unlogged = 0;
  limit.last = now;
  return true;
}

void KafkaRecordSink::handle_error(rd_kafka_resp_err_t error, const char* reason) {
  if (error == RD_KAFKA_RESP_ERR__FATAL) {
    char text[512];
    const rd_kafka_resp_err_t cause = rd_kafka_fatal_error(rk_, text, sizeof text);
    log_.critical(
        "kafka producer failed fatally; records can no longer be delivered",
        {{"client_id", options_.client_id}, {"error", rd_kafka_err2name(cause)}, {"reason", text}});
    // This report covers the records that fail with it.
    static_cast<void>(first_of_kind("fatal"));
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
