// The `kafka` record sink: a librdkafka producer with a delivery-report thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

#include "crosscut/sdk/host_context.hpp"
#include "crosscut/sdk/record_sink.hpp"
#include "kafka_conf.hpp"
#include "kafka_sink_options.hpp"

namespace crosscut::kafka {

// Thread-safety: as sdk::RecordSink (publish/stats from any thread, flush from any one).
//
// publish() hands the record to librdkafka's local queue and returns; it never waits for the
// network. A full queue follows on_full (block up to block_timeout, or drop); refusals (full
// queue, record larger than the broker limit, invalid topic) are counted in `dropped`, and
// the ones that are not full-queue drops are reported as `kafka_producer` errors.
//
// One delivery-report thread polls librdkafka (flush() serves reports too, while it waits): it
// counts delivered and failed records and
// turns permanent delivery failures into `kafka_producer` errors through
// HostContext::report_error, except for records whose origin is RecordOrigin::error_report:
// those are logged (rate-limited) and counted in the `kafka_sink.undelivered_error_reports`
// metric only, so a failing sink never feeds the error dispatcher in a loop. When every
// broker is unreachable (also at startup) the sink reports it once and keeps the records
// queued until the brokers come back or message_timeout passes.
//
// Destruction stops accepting records, waits up to shutdown_timeout for outstanding ones,
// purges the rest (counted as failed and logged), then joins the thread.
class KafkaRecordSink final : public sdk::CountingRecordSink, private ClientOpaque {
 public:
  static const sdk::OptionTable<KafkaSinkOptions>& options_table() { return kafka_sink_options(); }
  // Throws ConfigError (at the offending option) when librdkafka refuses the configuration.
  KafkaRecordSink(const KafkaSinkOptions& options, const sdk::ConfigView& view,
                  sdk::HostContext& host);
  ~KafkaRecordSink() override;

  bool publish(sdk::Record record) override;
  // Waits until every record accepted before the call was delivered or failed (failed ones
  // count as done: stats() tells them apart). On timeout, logs how many were still
  // outstanding and returns false. While it waits, this thread serves delivery reports, so
  // report_error may be called on it: do not call flush() holding a lock report_error needs.
  bool flush(std::chrono::steady_clock::time_point deadline) override;

  // Records accepted and not yet delivered or failed.
  std::uint64_t outstanding() const;

 private:
  static void on_delivery(rd_kafka_t* rk, const rd_kafka_message_t* message, void* opaque);
  static void on_error(rd_kafka_t* rk, int error, const char* reason, void* opaque);

  void handle_delivery(const rd_kafka_message_t& message);
  void handle_error(rd_kafka_resp_err_t error, const char* reason);
  void report_refusal(const sdk::Record& record, rd_kafka_resp_err_t error);
  void report(std::string type, std::string message, std::string request_type, sdk::Value context);
  bool wait_for_space(std::chrono::steady_clock::time_point deadline);
  bool wait_completed(std::uint64_t target, std::chrono::steady_clock::time_point deadline);
  void run_poller();

  sdk::HostContext& host_;
  sdk::Logger& log_;
  const KafkaSinkOptions options_;
  rd_kafka_t* rk_ = nullptr;

  // Read by every publish: off the cache lines of the base's counters.
  alignas(64) std::atomic<bool> accepting_{true};
  std::atomic<bool> shutting_down_{false};  // purged records are not reported as errors
  std::atomic<bool> stop_poller_{false};

  // Wakes publishers waiting for queue space, and the poller when flushes end.
  std::mutex wait_mu_;
  std::condition_variable progress_;
  std::atomic<int> waiters_{0};
  int flushing_ = 0;  // flush calls serving delivery reports themselves; guarded by wait_mu_

  // Delivery and error callbacks run on the poller and on a thread in flush(): their state is
  // atomic or behind failure_log_mu_ (taken on failures only).
  sdk::OutageLog brokers_outage_;  // all brokers unreachable: reported once per outage
  std::mutex failure_log_mu_;
  std::chrono::steady_clock::time_point last_failure_log_{};
  std::uint64_t unlogged_failures_ = 0;

  std::thread poller_;  // last: starts once everything above is ready
};

}  // namespace crosscut::kafka
