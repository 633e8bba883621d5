// The `kafka` record sink: a librdkafka producer with a delivery-report thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <thread>

#include "crosscut/sdk/host_context.hpp"
#include "crosscut/sdk/record_sink.hpp"
#include "kafka_conf.hpp"
#include "kafka_sink_options.hpp"

namespace crosscut::kafka {

// Thread-safety: as sdk::RecordSink (publish/stats from any thread, flush from any one).
//
// publish() hands the record to librdkafka's local queue and returns; it never waits for the
// network. The record's id travels as the header `crosscut-id` (when not empty). A full queue
// follows on_full (block up to block_timeout, or drop) and is a refusal (publish() returns
// false, counted in `dropped`); the sink stopping is one too. Any other produce error (a record
// larger than the broker limit, an invalid topic) accepts the record and completes its receipt
// at once with the error's outcome.
//
// Each accepted record carries its receipt through librdkafka (the per-message opaque) to its
// delivery report, served by one delivery-report thread (and by flush() while it waits). The
// report completes the receipt: delivered; permanent for errors no retry can fix (too large,
// not authorised, unknown or invalid topic, invalid record, a fatal producer error); retriable
// for everything else (timed out, brokers unreachable, purged at shutdown). `kind` is
// librdkafka's error name in lower case without leading underscores ("msg_size_too_large"),
// `reason` its description. The sink never retries beyond librdkafka's own retries: a
// retriable record goes back to the producer.
//
// Permanent failures of data records are counted in the `kafka_sink.permanent_failures`
// metric; the first of each kind is reported as a `kafka_producer` error through
// HostContext::report_error, later ones are logged (rate-limited). Records whose origin is
// RecordOrigin::error_report are never reported: they are logged (rate-limited) and counted
// in `kafka_sink.undelivered_error_reports`, so a failing sink never feeds the error
// dispatcher in a loop. Retriable failures raise no errors; when every broker is unreachable
// (also at startup) the sink reports that once per outage and librdkafka keeps the records
// queued until the brokers come back or message_timeout passes.
//
// Destruction stops accepting records, waits up to shutdown_timeout for outstanding ones,
// purges the rest (they complete as retriable), then joins the thread. A receipt whose report
// never came completes as retriable after the librdkafka handle is destroyed.
class KafkaRecordSink final : public sdk::CountingRecordSink, private ClientOpaque {
 public:
  static const sdk::OptionTable<KafkaSinkOptions>& options_table() { return kafka_sink_options(); }
  // Throws ConfigError (at the offending option) when librdkafka refuses the configuration.
  // What librdkafka refuses in the options, checked on a client that contacts no broker.
  static void check_options(const KafkaSinkOptions& options, const sdk::ConfigView& view,
                            sdk::HostContext& host);
  static std::vector<sdk::ServerCheck> probe_servers(const KafkaSinkOptions& options,
                                                     const sdk::ConfigView& view,
                                                     sdk::HostContext& host,
                                                     std::chrono::milliseconds timeout);
  KafkaRecordSink(const KafkaSinkOptions& options, const sdk::ConfigView& view,
                  sdk::HostContext& host);
  ~KafkaRecordSink() override;

  bool publish(sdk::Record record) override;
  // Waits until every record accepted before the call was completed (failed ones count as
  // done: stats() and the receipts tell them apart). On timeout, logs how many were still
  // outstanding and returns false. While it waits, this thread serves delivery reports, so
  // report_error and receipt listeners may be called on it: do not call flush() holding a
  // lock they need.
  bool flush(std::chrono::steady_clock::time_point deadline) override;

  // Records accepted and not yet completed.
  std::uint64_t outstanding() const;

 private:
  // What librdkafka carries for one accepted record (its per-message opaque), in an intrusive
  // list so that the destructor can complete records whose report never came.
  struct InFlight {
    sdk::DeliveryReceipt receipt;
    sdk::RecordOrigin origin = sdk::RecordOrigin::data;
    InFlight* prev = nullptr;
    InFlight* next = nullptr;
  };
  // Log lines about failures at most once per interval, with the count since the last one.
  struct RateLimit {
    std::chrono::steady_clock::time_point last{};
    std::uint64_t unlogged = 0;
  };

  static void on_delivery(rd_kafka_t* rk, const rd_kafka_message_t* message, void* opaque);
  static void on_error(rd_kafka_t* rk, int error, const char* reason, void* opaque);

  void handle_delivery(const rd_kafka_message_t& message);
  void handle_error(rd_kafka_resp_err_t error, const char* reason);
  // Completes a record that failed (at publish time or in its report) with `error`.
  void complete_failure(const sdk::DeliveryReceipt& receipt, sdk::RecordOrigin origin,
                        rd_kafka_resp_err_t error, const std::string& topic, std::int32_t partition,
                        std::size_t payload_bytes, bool at_publish);
  // True (once per kind) when a permanent failure of this kind is to be reported as an error.
  bool first_of_kind(const std::string& kind);
  // True when a rate-limited line is due; `count` gets the failures since the last one.
  bool log_due(RateLimit& limit, std::uint64_t& count);
  void report(std::string type, std::string message, std::string request_type, sdk::Value context);
  bool wait_for_space(std::chrono::steady_clock::time_point deadline);
  bool wait_completed(std::uint64_t target, std::chrono::steady_clock::time_point deadline);
  void run_poller();

  InFlight* track(const sdk::Record& record);
  void untrack(InFlight* entry);

  sdk::HostContext& host_;
  sdk::Logger& log_;
  const KafkaSinkOptions options_;
  rd_kafka_t* rk_ = nullptr;

  // Read by every publish: off the cache lines of the base's counters.
  alignas(64) std::atomic<bool> accepting_{true};
  std::atomic<bool> shutting_down_{false};  // purged records are not logged one by one
  std::atomic<bool> stop_poller_{false};

  // Wakes publishers waiting for queue space, and the poller when flushes end.
  std::mutex wait_mu_;
  std::condition_variable progress_;
  std::atomic<int> waiters_{0};
  int flushing_ = 0;  // flush calls serving delivery reports themselves; guarded by wait_mu_

  // Records handed to librdkafka whose report has not come yet.
  std::mutex in_flight_mu_;
  InFlight in_flight_;  // the list's sentinel; guarded by in_flight_mu_

  // Delivery and error callbacks run on the poller and on a thread in flush(): their state is
  // atomic or behind failure_mu_ (taken on failures only).
  sdk::OutageLog brokers_outage_;  // all brokers unreachable: reported once per outage
  std::mutex failure_mu_;
  std::set<std::string, std::less<>> reported_kinds_;  // guarded by failure_mu_
  RateLimit permanent_log_;                            // guarded by failure_mu_
  RateLimit error_report_log_;                         // guarded by failure_mu_
  RateLimit retriable_log_;                            // guarded by failure_mu_

  std::thread poller_;  // last: starts once everything above is ready
};

}  // namespace crosscut::kafka
