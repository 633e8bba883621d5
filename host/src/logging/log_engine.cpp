#include "logging/log_engine.hpp"

#include <spdlog/async.h>
#include <spdlog/async_logger.h>
#include <spdlog/details/periodic_worker.h>
#include <spdlog/details/thread_pool.h>

#include <cstdio>
#include <stdexcept>
#include <thread>

#include "crosscut/log_context.hpp"
#include "logging/engine_logger.hpp"
#include "logging/json_line.hpp"
#include "logging/queue_consumer_sink.hpp"
#include "logging/record_writer.hpp"

namespace crosscut::logging {
namespace {

spdlog::level::level_enum spdlog_level(sdk::Level l) {
  switch (l) {
    case sdk::Level::debug:
      return spdlog::level::debug;
    case sdk::Level::info:
      return spdlog::level::info;
    case sdk::Level::warning:
      return spdlog::level::warn;
    case sdk::Level::error:
      return spdlog::level::err;
    case sdk::Level::critical:
      return spdlog::level::critical;
    case sdk::Level::off:
      return spdlog::level::info;
  }
  return spdlog::level::info;
}

std::int64_t epoch_ns(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

std::int64_t floor_seconds(std::int64_t ns) {
  std::int64_t s = ns / 1'000'000'000;
  return (ns % 1'000'000'000 < 0) ? s - 1 : s;
}

bool covers(std::string_view prefix, std::string_view name) {
  return name == prefix ||
         (name.size() > prefix.size() && name.starts_with(prefix) && name[prefix.size()] == '.');
}

// The calling thread's encode buffer: reused, so a log call does not allocate for it.
std::string& encode_buffer() {
  thread_local std::string buf;
  if (buf.capacity() > (1u << 20)) std::string().swap(buf);  // give back after a huge record
  buf.clear();
  return buf;
}

// Set while the logging thread runs a sink: a sink that logs (through HostContext::logger)
// must not wait on the queue that only its own thread drains.
thread_local bool t_on_logging_thread = false;

struct InflightGuard {
  std::atomic<int>& n;
  ~InflightGuard() { n.fetch_sub(1); }
};

}  // namespace

LogEngine::LogEngine(LogOptions options, const sdk::Clock& clock)
    : options_(std::move(options)),
      clock_(clock),
      masker_(options_.pii),
      sampler_(options_.sampling.per_message_per_second) {
  direct_writer_ =
      std::make_unique<RecordWriter>(options_.utc_offset, std::vector<sdk::LogSink*>{});
}

LogEngine::~LogEngine() {
  shutdown();
}

void LogEngine::add_sink(sdk::LogSink* sink) {
  std::lock_guard lock(lifecycle_mu_);
  if (state_ != State::created) throw std::logic_error("log sinks must be added before start()");
  if (sink) sinks_.push_back(sink);
}

void LogEngine::start() {
  std::lock_guard lock(lifecycle_mu_);
  if (state_ != State::created) throw std::logic_error("LogEngine::start() called twice");
  writer_ = std::make_unique<RecordWriter>(options_.utc_offset, sinks_);
  auto sink = std::make_shared<QueueConsumerSink>([this](std::string_view p) { consume(p); },
                                                  [this] {
                                                    t_on_logging_thread = true;
                                                    writer_->flush();
                                                  });
  pool_ = std::make_shared<spdlog::details::thread_pool>(
      std::max<std::size_t>(options_.queue.size, 1), 1);
  pool_raw_ = pool_.get();
  spd_ =
      std::make_shared<spdlog::async_logger>("crosscut", std::move(sink), pool_,
                                             options_.queue.overflow == OverflowPolicy::block
                                                 ? spdlog::async_overflow_policy::block
                                                 : spdlog::async_overflow_policy::overrun_oldest);
  spd_->set_level(spdlog::level::trace);
  spd_->flush_on(spdlog::level::critical);
  spd_->set_error_handler([this](const std::string& msg) {
    lost_.fetch_add(1, std::memory_order_relaxed);
    std::fprintf(stderr, "crosscut: logging engine error: %s\n", msg.c_str());
  });
  state_ = State::running;
  running_.store(true);
  flusher_ = std::make_unique<spdlog::details::periodic_worker>(
      [this] {
        std::string payload;
        encode_record(payload, RecordHeader{RecordKind::barrier, nullptr, 0, sdk::Level::info, 0},
                      {}, {}, nullptr, 0, nullptr);
        post_if_running(payload, sdk::Level::info);
      },
      std::chrono::seconds(1));
}

sdk::Level LogEngine::level_for(std::string_view name) const {
  std::size_t best = 0;
  sdk::Level level = options_.level;
  bool found = false;
  for (const auto& [prefix, l] : options_.levels) {
    if (covers(prefix, name) && (!found || prefix.size() >= best)) {
      best = prefix.size();
      level = l;
      found = true;
    }
  }
  return level;
}

EngineLogger& LogEngine::endpoint(std::string_view name, std::string_view category) {
  std::lock_guard lock(loggers_mu_);
  auto key = std::make_pair(std::string(name), std::string(category));
  auto it = loggers_.find(key);
  if (it == loggers_.end()) {
    auto lg = std::make_unique<EngineLogger>(*this, key.first, key.second, level_for(name));
    it = loggers_.emplace(std::move(key), std::move(lg)).first;
  }
  return *it->second;
}

Logger LogEngine::logger(std::string_view name, std::string_view category) {
  return Logger(&endpoint(name, category));
}

sdk::Logger& LogEngine::sdk_logger(std::string_view name, std::string_view category) {
  return endpoint(name, category);
}

void LogEngine::set_level(std::string_view name, sdk::Level level) {
  std::lock_guard lock(loggers_mu_);
  std::erase_if(options_.levels, [&](const auto& e) { return e.first == name; });
  options_.levels.emplace_back(std::string(name), level);
  for (auto& [key, lg] : loggers_)
    if (covers(name, key.first)) lg->set_level(level_for(key.first));
}

void LogEngine::submit(const EngineLogger& logger, sdk::Level level, std::string_view message,
                       sdk::Fields fields, const sdk::Value* exception) noexcept {
  try {
    const std::int64_t ns = epoch_ns(clock_.now());
    const ContextSnapshot context = current_context();
    // The in-flight count lets shutdown() wait for callers that saw the engine running before
    // it takes the pending suppressed counts and tears the queue down (both sides
    // sequentially consistent: a Dekker handshake).
    inflight_.fetch_add(1);
    InflightGuard guard{inflight_};
    std::string& buf = encode_buffer();
    if (!running_.load() || t_on_logging_thread) {
      // Before start / after shutdown / from a sink: synchronous, unsampled, stderr.
      encode_call(buf, RecordHeader{RecordKind::record, &logger, ns, level, 0}, logger, message,
                  fields, exception, 0, context.get());
      write_direct(buf);
      return;
    }
    const auto decision = sampler_.admit(&logger, message, level, floor_seconds(ns));
    if (!decision.emit) {
      suppressed_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    encode_call(buf, RecordHeader{RecordKind::record, &logger, ns, level, 0}, logger, message,
                fields, exception, decision.suppressed, context.get());
    post_raw(buf, level);
  } catch (...) {
    lost_.fetch_add(1, std::memory_order_relaxed);
  }
}

void LogEngine::post_raw(const std::string& payload, sdk::Level level) noexcept {
  try {
    spd_->log(spdlog::source_loc{}, spdlog_level(level),
              spdlog::string_view_t(payload.data(), payload.size()));
  } catch (...) {
    lost_.fetch_add(1, std::memory_order_relaxed);
  }
}

void LogEngine::encode_call(std::string& out, const RecordHeader& header,
                            const EngineLogger& logger, std::string_view message,
                            sdk::Fields fields, const sdk::Value* exception,
                            std::uint64_t suppressed, const sdk::Value::Object* context) {
  // One formatter per thread (its timestamp cache is per thread), rebuilt when the thread
  // logs to an engine with another offset.
  thread_local std::unique_ptr<JsonLineFormatter> formatter;
  thread_local std::chrono::minutes formatter_offset{0};
  if (!formatter || formatter_offset != options_.utc_offset) {
    formatter = std::make_unique<JsonLineFormatter>(options_.utc_offset);
    formatter_offset = options_.utc_offset;
  }
  const auto ts = std::chrono::system_clock::time_point(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(
          std::chrono::nanoseconds(header.timestamp_ns)));
  const std::string_view json =
      formatter->format_call(ts, header.level, logger.name(), logger.category(), message, fields,
                             exception, suppressed, context, scrubber_);
  encode_record(out, header, message, fields, exception, suppressed, context, json, &scrubber_);
}

bool LogEngine::post_if_running(const std::string& payload, sdk::Level level) noexcept {
  inflight_.fetch_add(1);
  InflightGuard guard{inflight_};
  if (!running_.load()) return false;
  post_raw(payload, level);
  return true;
}

void LogEngine::write_direct(const std::string& payload) noexcept {
  std::lock_guard lock(direct_mu_);
  if (!decode_record(payload, direct_decoded_)) return;
  if (direct_decoded_.header.kind == RecordKind::record)
    direct_writer_->write(direct_decoded_);
  else
    direct_writer_->flush();
}

void LogEngine::consume(std::string_view payload) noexcept {
  t_on_logging_thread = true;
  if (reopen_requested_.load(std::memory_order_relaxed) && reopen_requested_.exchange(false))
    writer_->reopen();
  if (!decode_record(payload, decoded_)) {
    lost_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  switch (decoded_.header.kind) {
    case RecordKind::record:
      writer_->write(decoded_);
      if (options_.queue.overflow == OverflowPolicy::drop_oldest && ++since_drop_check_ >= 256) {
        since_drop_check_ = 0;
        report_drops();
      }
      break;
    case RecordKind::barrier: {
      report_drops();
      writer_->flush();
      {
        std::lock_guard lock(barrier_mu_);
        barrier_done_ = std::max(barrier_done_, decoded_.header.aux);
      }
      barrier_cv_.notify_all();
      break;
    }
    case RecordKind::reopen:
      break;  // handled by the flag above
  }
}

void LogEngine::report_drops() noexcept {
  if (options_.queue.overflow != OverflowPolicy::drop_oldest || !pool_raw_) return;
  const std::uint64_t total = pool_raw_->overrun_counter();
  if (total <= drops_reported_) return;
  const std::uint64_t fresh = total - drops_reported_;
  drops_reported_ = total;
  dropped_.store(total, std::memory_order_relaxed);
  sdk::Value extra{sdk::Value::Object{}};
  extra.as_object().emplace_back("dropped", static_cast<long long>(fresh));
  extra.as_object().emplace_back("dropped_total", static_cast<long long>(total));
  writer_->write_internal(clock_.now(), sdk::Level::warning,
                          "log queue full: records dropped (overflow: drop_oldest)", extra);
}

std::uint64_t LogEngine::encode_barrier(std::string& out) {
  std::uint64_t seq = 0;
  {
    std::lock_guard lock(barrier_mu_);
    seq = ++barrier_requested_;
  }
  encode_record(out, RecordHeader{RecordKind::barrier, nullptr, 0, sdk::Level::info, seq}, {}, {},
                nullptr, 0, nullptr);
  return seq;
}

bool LogEngine::flush(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::string payload;
  const std::uint64_t seq = encode_barrier(payload);
  if (!post_if_running(payload, sdk::Level::info)) {
    std::lock_guard lock(direct_mu_);
    direct_writer_->flush();
    return true;
  }
  std::unique_lock lock(barrier_mu_);
  while (barrier_done_ < seq) {
    // Under drop_oldest the barrier itself may be dropped by a full queue: post it again.
    const auto slice =
        std::min(deadline, std::chrono::steady_clock::now() + std::chrono::milliseconds(100));
    if (barrier_cv_.wait_until(lock, slice, [&] { return barrier_done_ >= seq; })) break;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    if (options_.queue.overflow == OverflowPolicy::drop_oldest) {
      lock.unlock();
      post_if_running(payload, sdk::Level::info);
      lock.lock();
    }
  }
  return true;
}

void LogEngine::reopen() {
  reopen_requested_.store(true);
  std::string payload;
  encode_record(payload, RecordHeader{RecordKind::reopen, nullptr, 0, sdk::Level::info, 0}, {}, {},
                nullptr, 0, nullptr);
  post_if_running(payload, sdk::Level::info);
}

void LogEngine::shutdown() {
  std::lock_guard lifecycle(lifecycle_mu_);
  if (state_ != State::running) {
    state_ = State::stopped;
    return;
  }
  flusher_.reset();
  running_.store(false);
  while (inflight_.load() != 0) std::this_thread::yield();
  // No producer is left. Pending suppressed counts go out as one final record per template,
  // then a last barrier drains the queue and flushes the sinks.
  for (auto& p : sampler_.take_pending()) {
    try {
      std::string& buf = encode_buffer();
      encode_call(buf,
                  RecordHeader{RecordKind::record, p.logger, epoch_ns(clock_.now()), p.level, 0},
                  *static_cast<const EngineLogger*>(p.logger), p.message, {{"shutdown", true}},
                  nullptr, p.suppressed, nullptr);
      post_raw(buf, p.level);
    } catch (...) {
      lost_.fetch_add(1, std::memory_order_relaxed);
    }
  }
  std::string payload;
  const std::uint64_t seq = encode_barrier(payload);
  post_raw(payload, sdk::Level::info);
  {
    std::unique_lock lock(barrier_mu_);
    barrier_cv_.wait_for(lock, std::chrono::seconds(30), [&] { return barrier_done_ >= seq; });
  }
  // Join the logging thread first, so the last reference to the spdlog logger is dropped
  // here and not inside libspdlog's thread.
  pool_.reset();
  spd_.reset();
  writer_->flush();
  state_ = State::stopped;
}

LogEngineStats LogEngine::stats() const {
  LogEngineStats s;
  s.written = (writer_ ? writer_->written() : 0) + direct_writer_->written();
  s.suppressed = suppressed_.load(std::memory_order_relaxed);
  s.dropped = dropped_.load(std::memory_order_relaxed);
  s.lost = lost_.load(std::memory_order_relaxed);
  return s;
}

}  // namespace crosscut::logging
