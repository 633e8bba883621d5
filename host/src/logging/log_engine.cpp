#include "logging/log_engine.hpp"

#include <time.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <stdexcept>

#include "core/system_clock.hpp"
#include "logging/asymmetric_fence.hpp"
#include "logging/context_fields.hpp"
#include "logging/engine_logger.hpp"
#include "logging/record_writer.hpp"

namespace crosscut::logging {
namespace {

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

// The engine whose logging thread this is. A sink that logs (through HostContext::logger)
// must not wait on a queue that only its own thread drains: any logging thread writes
// synchronously.
thread_local constinit const LogEngine* t_logging_engine
    __attribute__((tls_model("initial-exec"))) = nullptr;

std::int64_t monotonic_ms() noexcept {
  struct timespec ts {};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1'000'000;
}

void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

// A heap record in the ring: its header and the payload's address.
constexpr std::size_t kHeapRecord = sizeof(QueuedHeader) + sizeof(HeapPayload);

}  // namespace

LogEngine::LogEngine(LogOptions options, const sdk::Clock& clock)
    : options_(std::move(options)),
      clock_(clock),
      id_(next_engine_id()),
      use_ticks_(dynamic_cast<const core::SystemClock*>(&clock) != nullptr &&
                 tick_clock_available()),
      masker_(std::make_unique<PiiMasker>(options_.pii)),
      scrubber_(std::make_unique<RecordScrubber>(*masker_)),
      sampler_(std::make_unique<LogSampler>(options_.sampling.per_message_per_second)) {
  prepare_asymmetric_fences();
  direct_writer_ =
      std::make_unique<RecordWriter>(options_.utc_offset, std::vector<sdk::LogSink*>{});
}

LogEngine::~LogEngine() {
  shutdown();
  // Threads that still hold a queue of this engine let go of it on their next attach.
  std::lock_guard lock(queues_mu_);
  for (const auto& q : registered_) q->engine_gone.store(true, std::memory_order_release);
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
  if (use_ticks_) ticks_ = std::make_unique<TickConverter>();
  backend_running_.store(true);
  backend_ = std::thread([this] { run_backend(); });
  state_ = State::running;
  running_.store(true);
  if (options_.crash_handler) crash_registered_ = register_crash_drain(*this);
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

// ---- Front end ---------------------------------------------------------------------------

std::shared_ptr<ThreadLogQueue> LogEngine::make_queue(void* engine) {
  auto* self = static_cast<LogEngine*>(engine);
  auto q = std::make_shared<ThreadLogQueue>(self->options_.queue.capacity.bytes);
  std::lock_guard lock(self->queues_mu_);
  // After the logging thread has ended the caller writes synchronously; the thread drops
  // the queue on its next first call to another engine.
  if (!self->backend_running_.load(std::memory_order_acquire))
    q->engine_gone.store(true, std::memory_order_release);
  self->registered_.push_back(q);
  self->registered_version_.fetch_add(1, std::memory_order_release);
  return q;
}

void LogEngine::submit(const EngineLogger& logger, sdk::Level level, std::string_view message,
                       sdk::Fields fields, const sdk::Value* exception) noexcept {
  if (t_logging_engine) {
    submit_direct(logger, level, message, fields, exception);
    return;
  }
  ThreadLogQueue* q = t_queue_cache.engine_id == id_ ? t_queue_cache.queue : nullptr;
  if (!q) {
    if (!running_.load(std::memory_order_relaxed)) {  // no queue for a stopped engine
      submit_direct(logger, level, message, fields, exception);
      return;
    }
    try {
      q = attach_thread_queue(id_, &LogEngine::make_queue, this);
    } catch (...) {
      q = nullptr;  // out of memory for a new queue: write synchronously
    }
    if (!q) {
      submit_direct(logger, level, message, fields, exception);
      return;
    }
  }
  // A Dekker handshake with shutdown(): either shutdown sees this call in progress and
  // waits for it, or this call sees the engine stopped and writes synchronously.
  q->in_call.store(true, std::memory_order_relaxed);
  light_fence();
  if (!running_.load(std::memory_order_relaxed)) {
    q->in_call.store(false, std::memory_order_release);
    submit_direct(logger, level, message, fields, exception);
    return;
  }
  QueuedHeader header;
  header.timestamp = use_ticks_ ? static_cast<std::int64_t>(ticks()) : epoch_ns(clock_.now());
  header.logger = &logger;
  header.level = level;
  const sdk::Value::Object* context = t_context_fields;
  const std::size_t payload = payload_size(message, fields, exception, context);
  if (payload != SIZE_MAX && sizeof header + payload <= q->ring.max_record()) {
    if (std::byte* at = reserve(*q, sizeof header + payload)) {
      std::memcpy(at, &header, sizeof header);
      write_payload(at + sizeof header, message, fields, exception, context);
      q->ring.commit();
    }
  } else if (payload != SIZE_MAX) {
    // Larger than half the ring: the payload goes to the heap, the ring holds its address.
    std::string* body = nullptr;
    try {
      body = new std::string(payload, '\0');
    } catch (...) {
      body = nullptr;
    }
    if (!body) {
      lost_.fetch_add(1, std::memory_order_relaxed);
    } else if (std::byte* at = reserve(*q, kHeapRecord)) {
      write_payload(reinterpret_cast<std::byte*>(body->data()), message, fields, exception,
                    context);
      header.kind = QueuedKind::heap;
      std::memcpy(at, &header, sizeof header);
      const HeapPayload heap{body};
      std::memcpy(at + sizeof header, &heap, sizeof heap);
      q->ring.commit();
    } else {
      delete body;
    }
  } else {
    lost_.fetch_add(1, std::memory_order_relaxed);
  }
  q->in_call.store(false, std::memory_order_release);
}

std::byte* LogEngine::reserve(ThreadLogQueue& q, std::size_t size) noexcept {
  if (std::byte* at = q.ring.reserve(size)) return at;
  if (options_.queue.overflow != OverflowPolicy::block) {
    // Only this thread writes its counter: no read-modify-write needed.
    q.dropped.store(q.dropped.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    return nullptr;
  }
  wake_backend();
  for (unsigned spins = 0;; ++spins) {
    if (std::byte* at = q.ring.reserve(size)) return at;
    if (spins < 64)
      cpu_relax();
    else if (spins < 512)
      std::this_thread::yield();
    else
      std::this_thread::sleep_for(std::chrono::microseconds(50));
  }
}

void LogEngine::wake_backend() noexcept {
  {
    std::lock_guard lock(wake_mu_);
    wake_ = true;
  }
  wake_cv_.notify_one();
}

void LogEngine::submit_direct(const EngineLogger& logger, sdk::Level level,
                              std::string_view message, sdk::Fields fields,
                              const sdk::Value* exception) noexcept {
  try {
    std::lock_guard lock(direct_mu_);
    const sdk::Value::Object* context = t_context_fields;
    const std::size_t size = payload_size(message, fields, exception, context);
    if (size == SIZE_MAX) throw std::length_error("log record too large");
    direct_payload_.assign(size, '\0');
    auto* at = reinterpret_cast<std::byte*>(direct_payload_.data());
    write_payload(at, message, fields, exception, context);
    if (!decode_payload({at, size}, 0, direct_decoded_)) throw std::runtime_error("codec");
    direct_decoded_.timestamp_ns = epoch_ns(clock_.now());
    direct_decoded_.logger = &logger;
    direct_decoded_.level = level;
    scrubber_->scrub(direct_decoded_.message);
    scrubber_->scrub(direct_decoded_.extra);
    if (!direct_writer_->write(direct_decoded_)) lost_.fetch_add(1, std::memory_order_relaxed);
    if (direct_payload_.capacity() > (1u << 20)) std::string().swap(direct_payload_);
  } catch (...) {
    lost_.fetch_add(1, std::memory_order_relaxed);
  }
}

// ---- Back end ----------------------------------------------------------------------------

std::int64_t LogEngine::to_epoch_ns(std::int64_t timestamp) const noexcept {
  return use_ticks_ ? ticks_->to_epoch_ns(static_cast<std::uint64_t>(timestamp)) : timestamp;
}

void LogEngine::adopt_queues() {
  const std::uint64_t version = registered_version_.load(std::memory_order_acquire);
  if (version == queues_version_) return;
  std::lock_guard lock(queues_mu_);
  queues_ = registered_;
  queues_version_ = registered_version_.load(std::memory_order_relaxed);
}

bool LogEngine::oldest_front(Front& front) {
  return oldest_front_of(queues_, front);
}

bool LogEngine::oldest_front_of(const std::vector<std::shared_ptr<ThreadLogQueue>>& queues,
                                Front& front) {
  front.queue = nullptr;
  for (const auto& q : queues) {
    const auto r = q->ring.front();
    if (r.empty()) continue;
    std::int64_t ts = 0;
    std::memcpy(&ts, r.data(), sizeof ts);
    if (!front.queue || ts < front.timestamp) front = {q.get(), r, ts};
  }
  return front.queue != nullptr;
}

void LogEngine::process(std::span<const std::byte> record, DecodedRecord& scratch,
                        bool sample) noexcept {
  QueuedHeader header;
  std::memcpy(&header, record.data(), sizeof header);
  std::span<const std::byte> payload = record.subspan(sizeof header);
  std::unique_ptr<std::string> body;
  if (header.kind == QueuedKind::heap) {
    HeapPayload heap;
    std::memcpy(&heap, payload.data(), sizeof heap);
    body.reset(heap.body);
    payload = {reinterpret_cast<const std::byte*>(body->data()), body->size()};
  }
  try {
    const std::int64_t ns = to_epoch_ns(header.timestamp);
    std::uint64_t suppressed = 0;
    if (sample) {
      std::string_view message;
      if (!payload_message(payload, message)) throw std::runtime_error("codec");
      const auto decision =
          sampler_->admit(header.logger, message, header.level, floor_seconds(ns));
      if (!decision.emit) {
        suppressed_.fetch_add(1, std::memory_order_relaxed);
        return;
      }
      suppressed = decision.suppressed;
    }
    if (!decode_payload(payload, suppressed, scratch)) throw std::runtime_error("codec");
    scratch.timestamp_ns = ns;
    scratch.logger = header.logger;
    scratch.level = header.level;
    write_decoded(scratch);
  } catch (...) {
    lost_.fetch_add(1, std::memory_order_relaxed);
  }
}

void LogEngine::write_decoded(DecodedRecord& record) noexcept {
  try {
    scrubber_->scrub(record.message);
    scrubber_->scrub(record.extra);
  } catch (...) {
    lost_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  if (!writer_->write(record)) lost_.fetch_add(1, std::memory_order_relaxed);
  if (record.level == sdk::Level::critical) writer_->flush();
  // Give back what a huge record took.
  if (record.message.capacity() > (1u << 20)) std::string().swap(record.message);
}

void LogEngine::retire_drained_queues() {
  // A queue whose thread has exited is released once empty; its drop count is kept.
  std::vector<std::shared_ptr<ThreadLogQueue>> retired;
  for (const auto& q : queues_)
    if (q->thread_exited.load(std::memory_order_acquire) && q->ring.front().empty())
      retired.push_back(q);
  if (retired.empty()) return;
  std::lock_guard lock(queues_mu_);
  for (const auto& q : retired) {
    dropped_retired_ += q->dropped.load(std::memory_order_relaxed);
    q->engine_gone.store(true, std::memory_order_release);
    std::erase(registered_, q);
  }
  registered_version_.fetch_add(1, std::memory_order_release);
  queues_ = registered_;
  queues_version_ = registered_version_.load(std::memory_order_relaxed);
}

void LogEngine::report_drops() noexcept {
  if (options_.queue.overflow == OverflowPolicy::block) return;
  std::uint64_t total = dropped_retired_;
  for (const auto& q : queues_) total += q->dropped.load(std::memory_order_relaxed);
  if (total <= drops_reported_) return;
  const std::uint64_t fresh = total - drops_reported_;
  drops_reported_ = total;
  dropped_.store(total, std::memory_order_relaxed);
  try {
    sdk::Value extra{sdk::Value::Object{}};
    extra.as_object().emplace_back("dropped", static_cast<long long>(fresh));
    extra.as_object().emplace_back("dropped_total", static_cast<long long>(total));
    writer_->write_internal(clock_.now(), sdk::Level::warning,
                            "log queue full: records dropped (overflow: drop_newest)", extra);
  } catch (...) {
    lost_.fetch_add(1, std::memory_order_relaxed);
  }
}

void LogEngine::write_pending_suppressed(const char* why) noexcept {
  try {
    for (auto& p : sampler_->take_pending()) {
      DecodedRecord r;
      r.timestamp_ns = epoch_ns(clock_.now());
      r.logger = p.logger;
      r.level = p.level;
      r.message = std::move(p.message);
      r.extra =
          sdk::Value::object({{why, true}, {"suppressed", static_cast<long long>(p.suppressed)}});
      write_decoded(r);
    }
  } catch (...) {
    lost_.fetch_add(1, std::memory_order_relaxed);
  }
}

void LogEngine::run_backend() noexcept {
  t_logging_engine = this;
  std::int64_t last_second = monotonic_ms();
  std::uint64_t flush_target_seq = 0;  // the flush request being served
  std::vector<std::pair<std::shared_ptr<ThreadLogQueue>, std::uint64_t>> flush_targets;
  std::chrono::microseconds idle_wait{50};
  Front front;
  for (;;) {
    if (crash_.load(std::memory_order_acquire)) {
      // Another thread is crashing and takes over the queues: stay out of its way until the
      // process dies (or a handler chained to recovers and the crash is called off).
      backend_parked_.store(true, std::memory_order_release);
      while (crash_.load(std::memory_order_acquire))
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      backend_parked_.store(false, std::memory_order_release);
    }
    adopt_queues();
    if (reopen_requested_.load(std::memory_order_relaxed) && reopen_requested_.exchange(false))
      writer_->reopen();
    int done = 0;
    for (; done < 256 && !crash_.load(std::memory_order_relaxed) && oldest_front(front); ++done) {
      processing_ = front.queue;
      process(front.record, decoded_, true);
      if (processing_) front.queue->ring.pop();  // else a crash drain on this thread popped it
      processing_ = nullptr;
    }
    report_drops();
    const std::int64_t now_ms = monotonic_ms();
    if (now_ms - last_second >= 1000) {
      last_second = now_ms;
      writer_->flush();
      if (ticks_) ticks_->resync();
      retire_drained_queues();
    }
    // flush(): everything committed before the request, then the sinks.
    const std::uint64_t requested = flush_requested_.load(std::memory_order_acquire);
    if (requested > flush_target_seq) {
      flush_target_seq = requested;
      adopt_queues();
      flush_targets.clear();
      for (const auto& q : queues_) flush_targets.emplace_back(q, q->ring.write_position());
    }
    if (!flush_targets.empty() || requested > flush_done_) {
      const bool reached = std::all_of(flush_targets.begin(), flush_targets.end(), [](auto& t) {
        return t.first->ring.read_position() >= t.second;
      });
      if (reached) {
        flush_targets.clear();
        if (reopen_requested_.exchange(false)) writer_->reopen();  // asked before the flush
        report_drops();
        retire_drained_queues();
        writer_->flush();
        if (reconfigure_pending_.load(std::memory_order_acquire)) apply_pending_reconfigure();
        {
          std::lock_guard lock(flush_mu_);
          flush_done_ = flush_target_seq;
        }
        flush_cv_.notify_all();
      }
    }
    if (done > 0) {
      idle_wait = std::chrono::microseconds(50);
      continue;
    }
    if (stop_.load(std::memory_order_acquire)) {
      adopt_queues();
      if (!oldest_front(front)) break;
      continue;
    }
    std::unique_lock lock(wake_mu_);
    wake_cv_.wait_for(lock, idle_wait, [&] { return wake_; });
    wake_ = false;
    idle_wait = std::min(idle_wait * 2, std::chrono::microseconds(1000));
  }
  write_pending_suppressed("shutdown");
  report_drops();
  writer_->flush();
  {
    std::lock_guard lock(queues_mu_);
    for (const auto& q : registered_) q->engine_gone.store(true, std::memory_order_release);
  }
  backend_running_.store(false, std::memory_order_release);
}

bool LogEngine::flush(std::chrono::milliseconds timeout) {
  if (t_logging_engine == this) {  // a sink flushing from inside write()
    writer_->flush();
    return true;
  }
  if (!running_.load()) {
    std::lock_guard lock(direct_mu_);
    direct_writer_->flush();
    return true;
  }
  const std::uint64_t seq = flush_requested_.fetch_add(1) + 1;
  wake_backend();
  std::unique_lock lock(flush_mu_);
  // A logging thread that has ended (a shutdown came in between) wrote everything.
  return flush_cv_.wait_for(lock, timeout, [&] {
    return flush_done_ >= seq || !backend_running_.load(std::memory_order_acquire);
  });
}

void LogEngine::reopen() {
  reopen_requested_.store(true);
  wake_backend();
}

bool LogEngine::reconfigure(const LogOptions& options, std::vector<sdk::LogSink*> sinks,
                            std::chrono::milliseconds timeout) {
  {
    std::lock_guard lock(loggers_mu_);
    options_.level = options.level;
    options_.levels = options.levels;
    for (auto& [key, lg] : loggers_) lg->set_level(level_for(key.first));
  }
  std::uint64_t seq = 0;
  {
    std::lock_guard lock(reconfigure_mu_);
    seq = ++reconfigure_requests_;
    reconfigure_ = PendingReconfigure{options, std::move(sinks), seq};
    reconfigure_pending_.store(true, std::memory_order_release);
  }
  {
    // A stopped (or never started) engine has no logging thread to hand this to.
    std::lock_guard lifecycle(lifecycle_mu_);
    if (state_ != State::running) apply_pending_reconfigure();
  }
  flush(timeout);
  std::lock_guard lock(reconfigure_mu_);
  return reconfigured_seq_ >= seq;
}

void LogEngine::apply_pending_reconfigure() noexcept {
  std::optional<PendingReconfigure> next;
  {
    std::lock_guard lock(reconfigure_mu_);
    next.swap(reconfigure_);
    reconfigure_pending_.store(false, std::memory_order_relaxed);
  }
  if (!next) return;
  try {
    if (next->options.sampling.per_message_per_second != options_.sampling.per_message_per_second) {
      write_pending_suppressed("reload");
      sampler_ = std::make_unique<LogSampler>(next->options.sampling.per_message_per_second);
    }
    auto masker = std::make_unique<PiiMasker>(next->options.pii);
    auto scrubber = std::make_unique<RecordScrubber>(*masker);
    if (writer_) writer_->flush();
    std::lock_guard direct(direct_mu_);
    scrubber_ = std::move(scrubber);
    masker_ = std::move(masker);
    options_.pii = next->options.pii;
    options_.sampling = next->options.sampling;
    options_.utc_offset = next->options.utc_offset;
    sinks_ = next->sinks;
    direct_writer_->replace_sinks(options_.utc_offset, {});
    if (writer_) writer_->replace_sinks(options_.utc_offset, std::move(next->sinks));
  } catch (...) {
    lost_.fetch_add(1, std::memory_order_relaxed);  // nothing else can be said: out of memory
  }
  std::lock_guard lock(reconfigure_mu_);
  reconfigured_seq_ = std::max(reconfigured_seq_, next->seq);
}

void LogEngine::shutdown() {
  std::lock_guard lifecycle(lifecycle_mu_);
  if (state_ != State::running) {
    state_ = State::stopped;
    return;
  }
  if (crash_registered_) unregister_crash_drain(*this);
  running_.store(false, std::memory_order_seq_cst);
  heavy_fence();
  // Calls that saw the engine running finish putting their records in the queues.
  std::vector<std::shared_ptr<ThreadLogQueue>> queues;
  {
    std::lock_guard lock(queues_mu_);
    queues = registered_;
  }
  for (const auto& q : queues)
    while (q->in_call.load(std::memory_order_acquire)) std::this_thread::yield();
  stop_.store(true, std::memory_order_release);
  wake_backend();
  backend_.join();
  {
    std::lock_guard lock(flush_mu_);
    flush_done_ = flush_requested_.load();
  }
  flush_cv_.notify_all();
  state_ = State::stopped;
}

void LogEngine::drain_for_crash(std::string_view message, const sdk::Value& extra) noexcept {
  if (!backend_running_.load(std::memory_order_acquire)) return;
  const bool on_logging_thread = t_logging_engine == this;
  crash_.store(true, std::memory_order_seq_cst);
  if (on_logging_thread) {
    if (processing_) processing_->ring.pop();  // the record being written when it crashed
    processing_ = nullptr;
  } else {
    // The logging thread parks between two records; one stuck in a sink is not waited for long.
    const std::int64_t give_up = monotonic_ms() + 2000;
    while (!backend_parked_.load(std::memory_order_acquire) &&
           backend_running_.load(std::memory_order_acquire) && monotonic_ms() < give_up)
      std::this_thread::yield();
    if (!backend_parked_.load(std::memory_order_acquire) &&
        backend_running_.load(std::memory_order_acquire)) {
      // Taking the queues from under a running consumer would corrupt them: say what
      // happened on stderr, and that the queued records could not be written.
      std::unique_lock lock(direct_mu_, std::try_to_lock);
      if (lock.owns_lock())
        direct_writer_->write_internal(
            clock_.now(), sdk::Level::critical,
            std::string(message) +
                " (queued log records not written: the logging thread is "
                "stuck in a sink)",
            extra);
      return;
    }
  }
  // A sink that logs while the queues drain writes synchronously, as on the logging thread.
  const LogEngine* previous = std::exchange(t_logging_engine, this);
  try {
    // The queues as registered now (the crashing thread may hold the lock: then the
    // logging thread's copy).
    std::unique_lock lock(queues_mu_, std::try_to_lock);
    if (lock.owns_lock()) queues_ = registered_;
    if (lock.owns_lock()) lock.unlock();
    // Everything committed up to now, oldest first; unsampled, since nothing is to be lost.
    std::vector<std::pair<ThreadLogQueue*, std::uint64_t>> ends;
    for (const auto& q : queues_) ends.emplace_back(q.get(), q->ring.write_position());
    auto queues = queues_;
    DecodedRecord scratch;
    Front front;
    while (oldest_front_of(queues, front)) {
      const auto end = std::find_if(ends.begin(), ends.end(),
                                    [&](const auto& e) { return e.first == front.queue; });
      if (end == ends.end() || front.queue->ring.read_position() >= end->second) {
        std::erase_if(queues, [&](const auto& q) { return q.get() == front.queue; });
        continue;
      }
      process(front.record, scratch, false);
      front.queue->ring.pop();
    }
    report_drops();
    writer_->write_internal(clock_.now(), sdk::Level::critical, message, extra);
  } catch (...) {
    lost_.fetch_add(1, std::memory_order_relaxed);
  }
  writer_->flush();
  t_logging_engine = previous;
}

void LogEngine::resume_after_crash() noexcept {
  crash_.store(false, std::memory_order_release);
}

std::size_t LogEngine::thread_queues() const {
  std::lock_guard lock(queues_mu_);
  return registered_.size();
}

LogEngineStats LogEngine::stats() const {
  LogEngineStats s;
  s.written = (writer_ ? writer_->written() : 0) + direct_writer_->written();
  for (std::size_t i = 0; i < s.written_by_level.size(); ++i) {
    const auto level = static_cast<sdk::Level>(i);
    s.written_by_level[i] =
        (writer_ ? writer_->written_at(level) : 0) + direct_writer_->written_at(level);
  }
  s.suppressed = suppressed_.load(std::memory_order_relaxed);
  s.dropped = dropped_.load(std::memory_order_relaxed);
  s.lost = lost_.load(std::memory_order_relaxed);
  return s;
}

}  // namespace crosscut::logging
