// The metrics service: owns the minute batch counters, publishes their due minutes as one
// batch per counter per flush, and keeps batches the sink refused.
//
// Two ways to count. counter(target) hands out a counter kept for the service's lifetime: for
// the application's own targets, few and known. count(target, ...) counts into a counter the
// service creates on demand and releases once it is drained and idle: for targets named by
// input (the agent's events), which may be many and come and go. Both publish the same batches.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include "crosscut/counter.hpp"
#include "crosscut/sdk/bus.hpp"
#include "crosscut/sdk/events.hpp"
#include "crosscut/sdk/host_context.hpp"
#include "crosscut/sdk/log.hpp"
#include "crosscut/sdk/record_sink.hpp"
#include "metrics/metrics_options.hpp"
#include "metrics/minute_batch.hpp"
#include "metrics/target_counters.hpp"

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
  // Counters held now: those obtained with counter() (kept for the service's lifetime) plus
  // those count() created and has not released yet.
  std::size_t counters_live = 0;
  std::size_t counters_retained = 0;     // of counters_live: obtained with counter()
  std::uint64_t counters_released = 0;   // created by count() and released, since the start
  std::uint64_t increments_refused = 0;  // count() calls refused: a target field was too long
  std::uint64_t symbols_truncated = 0;   // increments whose symbol was cut (as of the last flush)
};

// Log lines of one kind at most once a minute by the service's clock; what happens in between
// is added up and said in the next line. Not synchronised (used under the flush lock).
class RateLimitedNote {
 public:
  static constexpr std::int64_t kIntervalNs = 60'000'000'000;
  // Adds `n` occurrences; true when a line is due now, which then reports take().
  bool add(std::uint64_t n, std::int64_t now_ns) {
    pending_ += n;
    if (pending_ == 0 || (logged_ && now_ns - last_ns_ < kIntervalNs)) return false;
    logged_ = true;
    last_ns_ = now_ns;
    return true;
  }
  std::uint64_t take() { return std::exchange(pending_, 0); }

 private:
  bool logged_ = false;
  std::int64_t last_ns_ = 0;
  std::uint64_t pending_ = 0;
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
  // Valid for the lifetime of the service, which never releases it.
  MinuteBatchCounter& counter(const sdk::Target& target);

  // One message of `target`, in the minute of `event_time_ms` (epoch milliseconds) or else
  // of the clock. The target's counter is created on demand and released by a flush pass
  // once every minute it counted has been collected and it has counted nothing for
  // `idle_release_after`; a target that comes back gets a fresh counter. When counter()
  // holds a counter for the target, the message counts there. Symbols are handled as by
  // MinuteBatchCounter::increment.
  //
  // Returns false, counting nothing, when a field of `target` is longer than
  // kMaxTargetFieldBytes (counted in increments_refused, logged at most once a minute).
  //
  // Thread-safety: any thread, concurrently with everything else. It takes the lock of the
  // target's shard (one of 64, held for a lookup and an addition; a flush pass holds each in
  // turn while it collects that shard), and the counters' lock when the target is new.
  bool count(const sdk::Target& target, std::string_view symbol,
             std::optional<std::int64_t> event_time_ms = std::nullopt);

  // One flush pass: offers refused batches again, then publishes every minute that ended
  // more than `grace` ago (or starts beyond `horizon`). What the flush thread runs.
  void flush_due();

  // Starts the flush thread (one pass every flush_interval). Idempotent.
  void start();

  // Stops the flush thread, publishes everything (the current minute too), retries refused
  // batches until `deadline`, then flushes the sink. True when every batch was accepted and
  // the sink confirmed delivery. Counting may go on afterwards; another shutdown() publishes it.
  bool shutdown(std::chrono::steady_clock::time_point deadline);

  // A reloaded `metrics` section and the sink it names (may be null), from the next flush
  // pass on; returns at once, even while a pass waits for a full sink (which may then still
  // offer it a batch: keep the old sink alive). Counters, refused batches waiting for the sink
  // and stats carry over; batches the old sink accepted are its to deliver. A new
  // flush_interval applies after the current wait.
  void reconfigure(MetricsOptions options, sdk::RecordSink* sink);

  MetricsStats stats() const;

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
  // Logs what collect() gathered in this pass (rate-limited per kind); under flush_mu_.
  struct PassNotes {
    std::uint64_t truncated = 0;
    bool invalid_utf8 = false;
    bool symbol_limit = false;
    std::string counter;  // a counter the notes concern, for the log line
  };
  void log_notes(const PassNotes& notes, std::int64_t now_ns);
  MinuteBatchCounter* find_retained(const sdk::Target& target);

  void apply_pending_config();  // under flush_mu_

  MetricsOptions options_;                   // guarded by flush_mu_
  sdk::RecordSink* sink_;                    // guarded by flush_mu_
  std::chrono::nanoseconds flush_interval_;  // guarded by thread_mu_
  std::mutex pending_config_mu_;
  std::optional<std::pair<MetricsOptions, sdk::RecordSink*>> pending_config_;
  const sdk::Clock& clock_;
  sdk::EventBus& bus_;
  sdk::Logger& log_;
  const ErrorCallback on_error_;

  mutable std::mutex counters_mu_;
  std::map<std::tuple<std::string, std::string, std::string>, std::unique_ptr<MinuteBatchCounter>>
      counters_;

  TargetCounters targets_;  // count()'s counters
  std::atomic<std::uint64_t> refused_{0};
  std::atomic<std::uint64_t> truncated_{0};  // by count(), until the next flush pass
  std::atomic<bool> invalid_utf8_{false};    // by count(), until the next flush pass
  std::atomic<bool> refused_example_set_{false};
  std::mutex refused_example_mu_;
  std::string refused_example_;  // a refused target since the last line about them (cut)

  mutable std::mutex flush_mu_;
  std::deque<Pending> pending_;
  std::vector<sdk::MetricsBatchPublished> outbox_events_;
  std::vector<sdk::ErrorEvent> outbox_errors_;
  MetricsStats stats_;
  std::uint64_t buffered_bytes_ = 0;
  std::size_t consecutive_refusals_ = 0;
  bool outage_reported_ = false;
  RateLimitedNote truncated_note_;
  RateLimitedNote invalid_utf8_note_;
  RateLimitedNote symbol_limit_note_;
  RateLimitedNote refused_note_;
  std::uint64_t refused_noted_ = 0;     // refused_ as of the last pass
  std::uint64_t over_limit_noted_ = 0;  // targets_' over_limit as of the last pass

  std::mutex thread_mu_;
  std::condition_variable wake_;
  bool stopping_ = false;
  bool shut_down_ = false;
  std::thread thread_;
};

}  // namespace crosscut::metrics
