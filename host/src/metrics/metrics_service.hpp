// The metrics service: owns the minute batch counters, publishes their due minutes as one
// batch per counter per flush, and keeps batches the sink refused.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "crosscut/counter.hpp"
#include "crosscut/sdk/bus.hpp"
#include "crosscut/sdk/events.hpp"
#include "crosscut/sdk/host_context.hpp"
#include "crosscut/sdk/log.hpp"
#include "crosscut/sdk/record_sink.hpp"
#include "metrics/metrics_options.hpp"
#include "metrics/minute_batch.hpp"

namespace crosscut::metrics {

// The error kind raised when the sink keeps refusing batches.
inline constexpr std::string_view kPublishErrorKind = "metrics_publish";

struct MetricsStats {
  std::uint64_t published_batches = 0;     // accepted by the sink
  std::uint64_t published_increments = 0;  // sum of `total` over them
  std::uint64_t refused_publishes = 0;     // publish() calls that returned false (or threw)
  std::uint64_t dropped_batches = 0;       // buffer overflow: lost, and logged
  std::uint64_t dropped_increments = 0;
  std::uint64_t unpublished_batches = 0;  // no sink configured
  std::uint64_t unpublished_increments = 0;
  std::size_t buffered_batches = 0;  // waiting for the sink right now
  std::uint64_t buffered_bytes = 0;
};

// Thread-safety: every member may be called from any thread. flush passes (the flush
// thread's, flush_due() and shutdown()) are serialised.
//
// Delivery: a batch the sink refuses (publish() returns false) is kept and offered again,
// first, at the next flush: nothing lost, nothing sent twice. A batch publish() accepted is
// the sink's to deliver; flush(deadline) == false only means "not confirmed yet" (the
// records may still arrive), so it is reported at shutdown but never causes a re-send, which
// could double the counts. After `failure_threshold` consecutive refused flushes one error
// (kind "metrics_publish") goes to the error callback, once per outage. Events and error
// callbacks run on the flushing thread after the service's lock is released.
class MetricsService {
 public:
  using ErrorCallback = std::function<void(sdk::ErrorEvent)>;

  // `sink` may be null: batches are then built (memory is freed) but not published, which
  // is logged once here. Clock, bus, logger and sink must outlive the service.
  MetricsService(MetricsOptions options, sdk::RecordSink* sink, const sdk::Clock& clock,
                 sdk::EventBus& bus, sdk::Logger& log, ErrorCallback on_error);
  // Calls shutdown() with a 5 s deadline unless it was called.
  ~MetricsService();
  MetricsService(const MetricsService&) = delete;
  MetricsService& operator=(const MetricsService&) = delete;

  // The counter of `target`, created on first use; the same object for the same target.
  // Valid for the lifetime of the service.
  MinuteBatchCounter& counter(const sdk::Target& target);

  // One flush pass: offers refused batches again, then publishes every minute that ended
  // more than `grace` ago (or starts beyond `horizon`). What the flush thread runs.
  void flush_due();

  // Starts the flush thread (one pass every flush_interval). Idempotent.
  void start();

  // Stops the flush thread, publishes everything (the current minute too), retries refused
  // batches until `deadline`, then flushes the sink. True when every batch was accepted and
  // the sink confirmed delivery. Counting may go on afterwards; another shutdown() publishes it.
  bool shutdown(std::chrono::steady_clock::time_point deadline);

  MetricsStats stats() const;
  const MetricsOptions& options() const noexcept { return options_; }

 private:
  struct Pending {
    std::string key;
    std::string payload;
    sdk::MetricsBatchPublished summary;
    sdk::Target target;
    std::uint64_t bytes = 0;
  };

  void run_flush_thread();
  void collect(bool everything);  // under flush_mu_
  void enqueue(const MinuteBatch& batch, std::uint64_t& dropped_batches,
               std::uint64_t& dropped_increments);
  bool publish_pending();  // under flush_mu_; true when nothing is left
  void note_refusal();
  // Emits the queued events and calls the error callback after releasing `lock`, so that
  // a synchronous bus or callback may call back into the service.
  void deliver_outbox(std::unique_lock<std::mutex>& lock);
  void log_notes(const sdk::Target& target, bool truncated, bool invalid_utf8, bool limit);

  const MetricsOptions options_;
  sdk::RecordSink* const sink_;
  const sdk::Clock& clock_;
  sdk::EventBus& bus_;
  sdk::Logger& log_;
  const ErrorCallback on_error_;

  std::mutex counters_mu_;
  std::map<std::tuple<std::string, std::string, std::string>, std::unique_ptr<MinuteBatchCounter>>
      counters_;

  mutable std::mutex flush_mu_;
  std::deque<Pending> pending_;
  std::vector<sdk::MetricsBatchPublished> outbox_events_;
  std::vector<sdk::ErrorEvent> outbox_errors_;
  MetricsStats stats_;
  std::uint64_t buffered_bytes_ = 0;
  std::size_t consecutive_refusals_ = 0;
  bool outage_reported_ = false;
  bool noted_truncated_ = false;
  bool noted_invalid_utf8_ = false;
  bool noted_symbol_limit_ = false;

  std::mutex thread_mu_;
  std::condition_variable wake_;
  bool stopping_ = false;
  bool shut_down_ = false;
  std::thread thread_;
};

}  // namespace crosscut::metrics
