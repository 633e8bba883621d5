// LogEngine: the structured logging engine, a front end on the calling threads and a back
// end on one logging thread.
//
// Front end (a log call): after the inline level check, the calling thread copies the
// record's parts in binary (record_codec.hpp) into a bounded queue of its own
// (thread_log_queue.hpp). The common path takes no lock, makes no system call, allocates
// nothing and renders nothing; its timestamp is a CPU tick count where the machine allows
// (tick_clock.hpp). A full queue follows `queue.overflow`: block, or drop the record
// (counted, and reported in a later record).
//
// Back end (the logging thread): drains every thread's queue, taking the oldest record of
// all first, then samples, repairs UTF-8, masks PII, renders the JSON line and hands it to
// the sinks. Sinks are flushed once a second, after every CRITICAL record, on flush() and
// at shutdown. On a fatal signal or std::terminate (crash_handler.hpp), what the queues
// hold is written out, then a CRITICAL record naming the cause.
//
// Lifecycle (the runtime's order):
//   LogEngine engine(parse_log_options(view), clock);
//   engine.add_sink(sink) ...;   // borrowed; they must outlive shutdown()
//   engine.start();
//   ... engine.logger(name, category) / engine.sdk_logger(name, category) ...
//   engine.reopen();             // on SIGHUP (from a normal thread, not the signal handler)
//   engine.shutdown();           // drains, reports pending suppressed counts, flushes, joins
// Before start(), after shutdown(), on the logging thread itself (a sink that logs) and on a
// thread that is exiting, records are written synchronously to stderr as JSON lines, so
// nothing logged around startup or teardown is lost or touches a destroyed sink.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "crosscut/logger.hpp"
#include "crosscut/sdk/host_context.hpp"
#include "crosscut/sdk/log.hpp"
#include "logging/crash_handler.hpp"
#include "logging/log_options.hpp"
#include "logging/log_sampler.hpp"
#include "logging/pii_masker.hpp"
#include "logging/record_codec.hpp"
#include "logging/record_scrubber.hpp"
#include "logging/thread_log_queue.hpp"
#include "logging/tick_clock.hpp"

namespace crosscut::logging {

class EngineLogger;
class RecordWriter;

// Every record asked for ends in exactly one of written, suppressed, dropped or lost; the
// engine's own records (drop reports, pending suppressed counts, a crash) count in none.
struct LogEngineStats {
  std::uint64_t written = 0;     // records delivered to the sinks (or stderr)
  std::uint64_t suppressed = 0;  // records held back by sampling (all reported in later records)
  std::uint64_t dropped = 0;     // records refused by a full queue under drop_newest (reported)
  std::uint64_t lost = 0;        // records that failed inside the engine (e.g. out of memory)
  std::array<std::uint64_t, 5> written_by_level{};  // of written: debug, info, ..., critical
};

// Thread-safe, except that add_sink/start/shutdown are for the owning thread.
class LogEngine final : private CrashDrain {
 public:
  // Throws std::invalid_argument for a bad PII pattern (parse_log_options checks earlier).
  // The clock must outlive the engine.
  LogEngine(LogOptions options, const sdk::Clock& clock);
  ~LogEngine();  // shutdown() if still running
  LogEngine(const LogEngine&) = delete;
  LogEngine& operator=(const LogEngine&) = delete;

  // Before start(). Not owned. With no sink at all, JSON lines go to stderr.
  void add_sink(sdk::LogSink* sink);
  // Starts the logging thread (and installs the crash handler unless turned off). Throws
  // std::logic_error when called twice.
  void start();

  // The logger (name, category), created on first use; handles stay valid for the engine's
  // lifetime. Its level: the most specific `levels` entry for the name, else `level`.
  Logger logger(std::string_view name, std::string_view category = "app");
  sdk::Logger& sdk_logger(std::string_view name, std::string_view category = "app");
  // Sets the level of `name` and its dotted children, existing loggers and future ones.
  void set_level(std::string_view name, sdk::Level level);

  // Waits until every record logged before the call has been handed to the sinks and the
  // sinks have been flushed; false on timeout.
  bool flush(std::chrono::milliseconds timeout = std::chrono::seconds(5));
  // Asks the sinks to reopen their files (on the logging thread, between records).
  void reopen();
  // Applies a reloaded `logging` section: the levels at once; the sinks, PII masking,
  // sampling and the timezone on the logging thread, once the records logged before the
  // call went to the old sinks. The queue options and the crash handler stay as they were.
  // The new sinks must be valid from the call; the old ones may be destroyed once it returned
  // true. False when the logging thread did not apply it within `timeout` (it still will:
  // keep the old sinks). `options.pii` must be valid (parse_log_options checked it).
  bool reconfigure(const LogOptions& options, std::vector<sdk::LogSink*> sinks,
                   std::chrono::milliseconds timeout);
  // Drains every queue, logs one record per template with a pending suppressed count,
  // reports drops, flushes the sinks and stops the thread. Idempotent.
  void shutdown();

  LogEngineStats stats() const;
  const LogOptions& options() const noexcept { return options_; }
  // Thread queues held: one per thread that logged, until it has exited and been drained
  // (released at the latest a second later, or on the next flush()).
  std::size_t thread_queues() const;

  // Called by EngineLogger after its level check.
  void submit(const EngineLogger& logger, sdk::Level level, std::string_view message,
              sdk::Fields fields, const sdk::Value* exception) noexcept;

 private:
  struct Front {
    ThreadLogQueue* queue = nullptr;
    std::span<const std::byte> record;
    std::int64_t timestamp = 0;
  };

  EngineLogger& endpoint(std::string_view name, std::string_view category);
  sdk::Level level_for(std::string_view name) const;  // callers hold loggers_mu_

  // Front end.
  std::byte* reserve(ThreadLogQueue& queue, std::size_t size) noexcept;
  void submit_direct(const EngineLogger& logger, sdk::Level level, std::string_view message,
                     sdk::Fields fields, const sdk::Value* exception) noexcept;
  static std::shared_ptr<ThreadLogQueue> make_queue(void* engine);
  void wake_backend() noexcept;

  // Back end (the logging thread, or the crashing thread once the logging thread is parked).
  void run_backend() noexcept;
  void adopt_queues();
  bool oldest_front(Front& front);
  static bool oldest_front_of(const std::vector<std::shared_ptr<ThreadLogQueue>>& queues,
                              Front& front);
  void process(std::span<const std::byte> record, DecodedRecord& scratch, bool sample) noexcept;
  void write_decoded(DecodedRecord& record) noexcept;
  std::int64_t to_epoch_ns(std::int64_t timestamp) const noexcept;
  void retire_drained_queues();
  void report_drops() noexcept;
  // One record per template with a pending suppressed count; `why` is the field set true
  // on it ("shutdown", "reload").
  void write_pending_suppressed(const char* why) noexcept;
  void apply_pending_reconfigure() noexcept;  // the logging thread, or a stopped engine
  void drain_for_crash(std::string_view message, const sdk::Value& extra) noexcept override;
  void resume_after_crash() noexcept override;

  LogOptions options_;
  const sdk::Clock& clock_;
  const std::uint64_t id_;
  const bool use_ticks_;  // timestamps are CPU ticks, converted on the logging thread
  // Replaced by a reconfigure() on the logging thread, under direct_mu_ (the synchronous path
  // scrubs too).
  std::unique_ptr<PiiMasker> masker_;
  std::unique_ptr<RecordScrubber> scrubber_;
  std::unique_ptr<LogSampler> sampler_;  // the logging thread's
  std::vector<sdk::LogSink*> sinks_;

  mutable std::mutex loggers_mu_;
  std::map<std::pair<std::string, std::string>, std::unique_ptr<EngineLogger>, std::less<>>
      loggers_;

  std::mutex lifecycle_mu_;
  enum class State { created, running, stopped } state_ = State::created;
  std::atomic<bool> running_{false};
  bool crash_registered_ = false;

  // Every thread queue of this engine; the logging thread works on its own copy.
  mutable std::mutex queues_mu_;
  std::vector<std::shared_ptr<ThreadLogQueue>> registered_;
  std::atomic<std::uint64_t> registered_version_{0};

  // Logging-thread state.
  std::thread backend_;
  std::vector<std::shared_ptr<ThreadLogQueue>> queues_;
  std::uint64_t queues_version_ = 0;
  ThreadLogQueue* processing_ = nullptr;  // the queue whose front record is being written
  std::unique_ptr<TickConverter> ticks_;
  std::unique_ptr<RecordWriter> writer_;
  DecodedRecord decoded_;
  std::uint64_t drops_reported_ = 0;
  std::uint64_t dropped_retired_ = 0;  // of queues already released

  // Requests to the logging thread.
  std::mutex wake_mu_;
  std::condition_variable wake_cv_;
  bool wake_ = false;
  std::atomic<bool> stop_{false};
  std::atomic<bool> reopen_requested_{false};
  std::atomic<std::uint64_t> flush_requested_{0};
  struct PendingReconfigure {
    LogOptions options;
    std::vector<sdk::LogSink*> sinks;
    std::uint64_t seq = 0;
  };
  std::mutex reconfigure_mu_;
  std::optional<PendingReconfigure> reconfigure_;  // guarded by reconfigure_mu_
  std::uint64_t reconfigured_seq_ = 0;             // guarded by reconfigure_mu_
  std::uint64_t reconfigure_requests_ = 0;         // guarded by reconfigure_mu_
  std::atomic<bool> reconfigure_pending_{false};
  std::mutex flush_mu_;
  std::condition_variable flush_cv_;
  std::uint64_t flush_done_ = 0;

  // A crash on another thread parks the logging thread before the queues are drained.
  std::atomic<bool> crash_{false};
  std::atomic<bool> backend_parked_{false};
  std::atomic<bool> backend_running_{false};

  // Synchronous stderr path.
  std::mutex direct_mu_;
  std::unique_ptr<RecordWriter> direct_writer_;
  std::string direct_payload_;
  DecodedRecord direct_decoded_;

  std::atomic<std::uint64_t> suppressed_{0};
  std::atomic<std::uint64_t> dropped_{0};
  std::atomic<std::uint64_t> lost_{0};
};

}  // namespace crosscut::logging
