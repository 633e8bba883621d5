// LogEngine: the structured logging engine. The calling thread checks the
// level (inline), applies sampling, repairs UTF-8, masks PII and renders the JSON line (so
// this work runs in parallel across callers), then spdlog's asynchronous logger carries the
// encoded record over a bounded queue to one background thread that hands it to the sinks.
// Sinks are flushed once a second (so buffered files reach the disk when idle), after every
// CRITICAL record, on flush() and at shutdown.
// Lifecycle (the runtime's order):
//   LogEngine engine(parse_log_options(view), clock);
//   engine.add_sink(sink) ...;   // borrowed; they must outlive shutdown()
//   engine.start();
//   ... engine.logger(name, category) / engine.sdk_logger(name, category) ...
//   engine.reopen();             // on SIGHUP (from a normal thread, not the signal handler)
//   engine.shutdown();           // reports pending suppressed counts, drains, flushes, joins
// Before start() and after shutdown(), records are written synchronously to stderr as JSON
// lines, so nothing logged around startup or teardown is lost or touches a destroyed sink.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "crosscut/logger.hpp"
#include "crosscut/sdk/host_context.hpp"
#include "crosscut/sdk/log.hpp"
#include "logging/log_options.hpp"
#include "logging/log_sampler.hpp"
#include "logging/pii_masker.hpp"
#include "logging/record_codec.hpp"
#include "logging/record_scrubber.hpp"

namespace spdlog {
class async_logger;
namespace details {
class thread_pool;
class periodic_worker;
}  // namespace details
}  // namespace spdlog

namespace crosscut::logging {

class EngineLogger;
class RecordWriter;

struct LogEngineStats {
  std::uint64_t written = 0;     // records delivered to the sinks (or stderr)
  std::uint64_t suppressed = 0;  // records held back by sampling (all reported in later records)
  std::uint64_t dropped = 0;     // records lost to a full queue under drop_oldest (reported)
  std::uint64_t lost = 0;        // records that failed inside the engine (e.g. out of memory)
};

// Thread-safe, except that add_sink/start/shutdown are for the owning thread.
class LogEngine {
 public:
  // Throws std::invalid_argument for a bad PII pattern (parse_log_options checks earlier).
  // The clock must outlive the engine.
  LogEngine(LogOptions options, const sdk::Clock& clock);
  ~LogEngine();  // shutdown() if still running
  LogEngine(const LogEngine&) = delete;
  LogEngine& operator=(const LogEngine&) = delete;

  // Before start(). Not owned. With no sink at all, JSON lines go to stderr.
  void add_sink(sdk::LogSink* sink);
  // Starts the logging thread. Throws std::logic_error when called twice.
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
  // Asks the sinks to reopen their files (on the logging thread, in queue order).
  void reopen();
  // Logs one record per template with a pending suppressed count, drains the queue,
  // flushes the sinks and stops the thread. Idempotent.
  void shutdown();

  LogEngineStats stats() const;
  const LogOptions& options() const noexcept { return options_; }

  // Called by EngineLogger after its level check.
  void submit(const EngineLogger& logger, sdk::Level level, std::string_view message,
              sdk::Fields fields, const sdk::Value* exception) noexcept;

 private:
  EngineLogger& endpoint(std::string_view name, std::string_view category);
  sdk::Level level_for(std::string_view name) const;  // callers hold loggers_mu_
  void post_raw(const std::string& payload, sdk::Level level) noexcept;
  bool post_if_running(const std::string& payload, sdk::Level level) noexcept;
  void write_direct(const std::string& payload) noexcept;
  // Renders the record on the calling thread (in parallel across callers) and encodes it.
  void encode_call(std::string& out, const RecordHeader& header, const EngineLogger& logger,
                   std::string_view message, sdk::Fields fields, const sdk::Value* exception,
                   std::uint64_t suppressed, const sdk::Value::Object* context);
  // A barrier record with a fresh sequence number; the logging thread marks it done when it
  // gets there. Returns the number.
  std::uint64_t encode_barrier(std::string& out);
  void consume(std::string_view payload) noexcept;  // logging thread
  void report_drops() noexcept;                     // logging thread

  LogOptions options_;
  const sdk::Clock& clock_;
  PiiMasker masker_;
  RecordScrubber scrubber_{masker_};
  LogSampler sampler_;
  std::vector<sdk::LogSink*> sinks_;

  mutable std::mutex loggers_mu_;
  std::map<std::pair<std::string, std::string>, std::unique_ptr<EngineLogger>, std::less<>>
      loggers_;

  std::mutex lifecycle_mu_;
  enum class State { created, running, stopped } state_ = State::created;
  std::atomic<bool> running_{false};
  std::atomic<int> inflight_{0};
  std::shared_ptr<spdlog::details::thread_pool> pool_;
  spdlog::details::thread_pool* pool_raw_ = nullptr;  // for the logging thread; set before start
  std::shared_ptr<spdlog::async_logger> spd_;
  // Posts a sink flush every second so buffered file output reaches the disk when idle.
  std::unique_ptr<spdlog::details::periodic_worker> flusher_;

  // Logging-thread state.
  std::unique_ptr<RecordWriter> writer_;
  DecodedRecord decoded_;
  std::uint64_t drops_reported_ = 0;
  std::uint32_t since_drop_check_ = 0;
  std::atomic<bool> reopen_requested_{false};

  // Synchronous stderr path before start / after shutdown.
  std::mutex direct_mu_;
  std::unique_ptr<RecordWriter> direct_writer_;
  DecodedRecord direct_decoded_;

  std::mutex barrier_mu_;
  std::condition_variable barrier_cv_;
  std::uint64_t barrier_requested_ = 0;
  std::uint64_t barrier_done_ = 0;

  std::atomic<std::uint64_t> suppressed_{0};
  std::atomic<std::uint64_t> dropped_{0};
  std::atomic<std::uint64_t> lost_{0};
};

}  // namespace crosscut::logging
