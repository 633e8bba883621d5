#include "metrics/metrics_service.hpp"

#include <exception>

#include "metrics/counter_state.hpp"
#include "metrics/symbol_key.hpp"

namespace crosscut::metrics {

MetricsService::MetricsService(MetricsOptions options, sdk::RecordSink* sink,
                               const sdk::Clock& clock, sdk::EventBus& bus, sdk::Logger& log,
                               ErrorCallback on_error)
    : options_(std::move(options)),
      sink_(sink),
      flush_interval_(options_.flush_interval),
      clock_(clock),
      bus_(bus),
      log_(log),
      on_error_(std::move(on_error)) {
  if (sink_ == nullptr)
    log_.info("metrics.sink is not set: minute batches are counted but not published");
}

MetricsService::~MetricsService() {
  bool done;
  {
    std::lock_guard lock(thread_mu_);
    done = shut_down_;
  }
  if (!done) shutdown(std::chrono::steady_clock::now() + std::chrono::seconds(5));
}

MinuteBatchCounter& MetricsService::counter(const sdk::Target& target) {
  MinuteBatchCounter* created;
  {
    std::lock_guard lock(counters_mu_);
    auto& slot = counters_[{target.region, target.exchange, target.request_type}];
    if (slot) return *slot;
    slot = std::make_unique<MinuteBatchCounter>(std::make_unique<CounterState>(target, clock_));
    created = slot.get();
  }
  // Outside counters_mu_: count() takes a shard lock, then counters_mu_, never both at once.
  targets_.retain(target, created);
  return *created;
}

MinuteBatchCounter* MetricsService::find_retained(const sdk::Target& target) {
  std::lock_guard lock(counters_mu_);
  auto it = counters_.find({target.region, target.exchange, target.request_type});
  return it == counters_.end() ? nullptr : it->second.get();
}

bool MetricsService::count(const sdk::Target& target, std::string_view symbol,
                           std::optional<std::int64_t> event_time_ms) {
  if (!target_fits(target)) [[unlikely]] {
    refused_.fetch_add(1, std::memory_order_relaxed);
    if (!refused_example_set_.exchange(true, std::memory_order_relaxed)) {
      // Enough of it to recognise the sender in the log line.
      std::lock_guard lock(refused_example_mu_);
      refused_example_ = sanitize_utf8(target.exchange.substr(0, kMaxTargetFieldBytes), false) +
                         "/" + sanitize_utf8(target.region.substr(0, kMaxTargetFieldBytes), false) +
                         "/" +
                         sanitize_utf8(target.request_type.substr(0, kMaxTargetFieldBytes), false);
    }
    return false;
  }
  const auto now = clock_.now();
  const std::int64_t now_ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch()).count();
  const std::int64_t minute = event_time_ms ? minute_of_ms(*event_time_ms) : minute_of(now);
  const PreparedSymbol prepared = prepare_symbol(symbol);
  TargetCounters::Counted counted = targets_.count(target, prepared, minute, now_ns);
  if (!counted.found)
    counted = targets_.add(target, find_retained(target), prepared, minute, now_ns);
  if (counted.forward != nullptr) {
    counted.forward->state().count(symbol, minute);  // it notes its own symbol repairs
    return true;
  }
  if (prepared.truncated) [[unlikely]]
    truncated_.fetch_add(1, std::memory_order_relaxed);
  if (prepared.invalid_utf8) [[unlikely]]
    invalid_utf8_.store(true, std::memory_order_relaxed);
  return true;
}

void MetricsService::flush_due() {
  std::unique_lock lock(flush_mu_);
  apply_pending_config();
  collect(false);
  publish_pending();
  deliver_outbox(lock);
}

void MetricsService::deliver_outbox(std::unique_lock<std::mutex>& lock) {
  auto events = std::move(outbox_events_);
  auto errors = std::move(outbox_errors_);
  outbox_events_.clear();
  outbox_errors_.clear();
  lock.unlock();
  for (auto& e : events) bus_.emit(std::move(e));
  if (on_error_)
    for (auto& e : errors) on_error_(std::move(e));
}

void MetricsService::start() {
  std::lock_guard lock(thread_mu_);
  if (thread_.joinable() || stopping_) return;
  thread_ = std::thread([this] { run_flush_thread(); });
}

void MetricsService::run_flush_thread() {
  std::unique_lock lock(thread_mu_);
  while (!wake_.wait_for(lock, flush_interval_, [this] { return stopping_; })) {
    lock.unlock();
    try {
      flush_due();
    } catch (const std::exception& e) {
      log_.error("metrics flush failed", {{"error", e.what()}});
    }
    lock.lock();
  }
}

bool MetricsService::shutdown(std::chrono::steady_clock::time_point deadline) {
  std::thread flusher;
  {
    std::lock_guard lock(thread_mu_);
    stopping_ = true;
    shut_down_ = true;
    flusher = std::move(thread_);
  }
  wake_.notify_all();
  if (flusher.joinable()) flusher.join();

  std::unique_lock lock(flush_mu_);
  apply_pending_config();
  collect(true);
  // A refusing sink may recover before the deadline (a full queue draining): keep offering.
  while (!publish_pending() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(
        std::chrono::milliseconds(10), deadline - std::chrono::steady_clock::now()));

  bool complete = pending_.empty();
  if (!complete) {
    std::uint64_t increments = 0;
    for (const auto& p : pending_) increments += p.summary.total;
    log_.error("metrics sink refused batches until the shutdown deadline; they are lost",
               {{"sink", options_.sink}, {"batches", pending_.size()}, {"increments", increments}});
    {
      sdk::ErrorEvent e;
      e.kind = std::string(kPublishErrorKind);
      e.info.type = "MetricsNotPublished";
      e.info.message = std::to_string(pending_.size()) +
                       " metric batches were not accepted by the sink before shutdown";
      e.target = pending_.front().target;
      e.context = sdk::Value::object({{"sink", options_.sink},
                                      {"topic", options_.topic},
                                      {"batches", pending_.size()},
                                      {"increments", increments}});
      e.timestamp = clock_.now();
      outbox_errors_.push_back(std::move(e));
    }
    stats_.dropped_batches += pending_.size();
    stats_.dropped_increments += increments;
    pending_.clear();
    buffered_bytes_ = 0;
  }
  deliver_outbox(lock);
  if (sink_ != nullptr && !sink_->flush(deadline)) {
    log_.warning("metrics sink did not confirm delivery of every batch before the deadline",
                 {{"sink", options_.sink}});
    complete = false;
  }
  return complete;
}

void MetricsService::reconfigure(MetricsOptions options, sdk::RecordSink* sink) {
  {
    std::lock_guard thread(thread_mu_);
    flush_interval_ = options.flush_interval;
  }
  {
    std::lock_guard pending(pending_config_mu_);
    pending_config_.emplace(std::move(options), sink);
  }
  // A flush pass under way (perhaps waiting for a full sink) must not hold up the caller:
  // the next pass takes the settings then.
  std::unique_lock flush(flush_mu_, std::try_to_lock);
  if (flush.owns_lock()) apply_pending_config();
}

void MetricsService::apply_pending_config() {
  std::optional<std::pair<MetricsOptions, sdk::RecordSink*>> next;
  {
    std::lock_guard pending(pending_config_mu_);
    next.swap(pending_config_);
  }
  if (!next) return;
  if (next->second == nullptr && sink_ != nullptr)
    log_.info("metrics.sink is not set: minute batches are counted but not published");
  options_ = std::move(next->first);
  sink_ = next->second;
}

MetricsStats MetricsService::stats() const {
  std::size_t retained;
  {
    std::lock_guard lock(counters_mu_);
    retained = counters_.size();
  }
  const TargetCounters::Stats targets = targets_.stats();
  std::lock_guard lock(flush_mu_);
  MetricsStats s = stats_;
  s.buffered_batches = pending_.size();
  s.buffered_bytes = buffered_bytes_;
  s.counters_retained = retained;
  s.counters_live = retained + targets.live;
  s.counters_released = targets.released;
  s.increments_refused = refused_.load(std::memory_order_relaxed);
  return s;
}

void MetricsService::collect(bool everything) {
  CollectWindow window;
  window.now_ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(clock_.now().time_since_epoch()).count();
  window.grace_ns = options_.grace.count();
  window.horizon_ns = options_.horizon.count();
  window.everything = everything;

  std::vector<MinuteBatchCounter*> counters;
  {
    std::lock_guard lock(counters_mu_);
    counters.reserve(counters_.size());
    for (auto& [key, c] : counters_) counters.push_back(c.get());
  }
  std::uint64_t dropped_batches = 0;
  std::uint64_t dropped_increments = 0;
  PassNotes notes;
  auto note = [&notes](const std::string& counter, const CounterNotes& n) {
    if (n.truncated == 0 && !n.invalid_utf8 && !n.symbol_limit) return;
    notes.truncated += n.truncated;
    notes.invalid_utf8 = notes.invalid_utf8 || n.invalid_utf8;
    notes.symbol_limit = notes.symbol_limit || n.symbol_limit;
    if (notes.counter.empty()) notes.counter = counter;
  };
  for (MinuteBatchCounter* c : counters) {
    MinuteBatch batch = c->state().collect(window);
    const CounterNotes n = c->state().take_notes();
    if (n.truncated != 0 || n.invalid_utf8 || n.symbol_limit) note(batch_key(c->target()), n);
    if (!batch.empty()) enqueue(batch, dropped_batches, dropped_increments);
  }

  // count()'s counters: a target with nothing left to publish that counted nothing for
  // idle_release_after is released.
  const std::int64_t idle_ns = options_.idle_release_after.count();
  targets_.collect(window, window.now_ns - idle_ns, [&](const MinuteBatch& batch) {
    enqueue(batch, dropped_batches, dropped_increments);
  });
  CounterNotes target_notes;
  target_notes.truncated = truncated_.exchange(0, std::memory_order_relaxed);
  target_notes.invalid_utf8 = invalid_utf8_.exchange(false, std::memory_order_relaxed);
  const std::uint64_t over_limit = targets_.stats().over_limit;
  target_notes.symbol_limit = over_limit != over_limit_noted_;
  over_limit_noted_ = over_limit;
  note("(targets counted from input)", target_notes);
  stats_.symbols_truncated += notes.truncated;
  log_notes(notes, window.now_ns);
  if (dropped_batches != 0)
    log_.warning("metrics buffer full while the sink refuses batches: oldest batches dropped",
                 {{"dropped_batches", dropped_batches},
                  {"dropped_increments", dropped_increments},
                  {"dropped_batches_total", stats_.dropped_batches},
                  {"max_buffered_bytes", options_.max_buffered_bytes.bytes}});
}

void MetricsService::enqueue(const MinuteBatch& batch, std::uint64_t& dropped_batches,
                             std::uint64_t& dropped_increments) {
  std::uint64_t total = batch.total();
  if (sink_ == nullptr) {
    ++stats_.unpublished_batches;
    stats_.unpublished_increments += total;
    return;
  }
  Pending p;
  p.key = batch_key(batch.target);
  p.payload = render_batch_json(batch);
  p.bytes = p.key.size() + p.payload.size() + sizeof(Pending);
  while (!pending_.empty() && buffered_bytes_ + p.bytes > options_.max_buffered_bytes.bytes) {
    ++dropped_batches;
    dropped_increments += pending_.front().summary.total;
    ++stats_.dropped_batches;
    stats_.dropped_increments += pending_.front().summary.total;
    buffered_bytes_ -= pending_.front().bytes;
    pending_.pop_front();
  }
  buffered_bytes_ += p.bytes;
  p.summary.key = p.key;
  p.summary.topic = options_.topic;
  p.summary.items = batch.items.size();
  p.summary.total = total;
  p.summary.range_start_ts = batch.items.front().minute_start;
  p.summary.range_end_ts = batch.items.back().minute_start + kBucketSizeSec - 1;
  p.target = batch.target;
  pending_.push_back(std::move(p));
}

bool MetricsService::publish_pending() {
  if (sink_ == nullptr) return true;
  while (!pending_.empty()) {
    Pending& p = pending_.front();
    sdk::Record record;
    record.topic = options_.topic;
    record.key = p.key;
    record.payload = p.payload;  // a copy: a refused record is offered again
    bool accepted = false;
    try {
      accepted = sink_->publish(std::move(record));
    } catch (const std::exception& e) {
      log_.error("metrics sink threw from publish()", {{"error", e.what()}});
    } catch (...) {
      log_.error("metrics sink threw from publish()");
    }
    if (!accepted) {
      ++stats_.refused_publishes;
      note_refusal();
      return false;
    }
    if (consecutive_refusals_ != 0 || outage_reported_)
      log_.info("metrics sink accepts batches again",
                {{"sink", options_.sink}, {"buffered_batches", pending_.size() - 1}});
    consecutive_refusals_ = 0;
    outage_reported_ = false;
    ++stats_.published_batches;
    stats_.published_increments += p.summary.total;
    outbox_events_.push_back(std::move(p.summary));
    buffered_bytes_ -= p.bytes;
    pending_.pop_front();
  }
  return true;
}

void MetricsService::note_refusal() {
  ++consecutive_refusals_;
  if (outage_reported_ || consecutive_refusals_ < options_.failure_threshold) return;
  outage_reported_ = true;
  log_.error("metrics sink keeps refusing batches; keeping them for later",
             {{"sink", options_.sink},
              {"consecutive_refusals", consecutive_refusals_},
              {"buffered_batches", pending_.size()}});
  sdk::ErrorEvent e;
  e.kind = std::string(kPublishErrorKind);
  e.info.type = "MetricsSinkRefused";
  e.info.message = "metrics sink refused batches on " + std::to_string(consecutive_refusals_) +
                   " consecutive attempts";
  e.target = pending_.front().target;
  e.context = sdk::Value::object(
      {{"sink", options_.sink}, {"topic", options_.topic}, {"buffered_batches", pending_.size()}});
  e.timestamp = clock_.now();
  outbox_errors_.push_back(std::move(e));
}

void MetricsService::log_notes(const PassNotes& notes, std::int64_t now_ns) {
  if (truncated_note_.add(notes.truncated, now_ns))
    log_.warning(
        "metrics: symbols longer than the limit were truncated (at most one line a minute)",
        {{"counter", notes.counter},
         {"max_symbol_bytes", kMaxSymbolBytes},
         {"increments", truncated_note_.take()}});
  if (invalid_utf8_note_.add(notes.invalid_utf8 ? 1 : 0, now_ns)) {
    invalid_utf8_note_.take();
    log_.warning(
        "metrics: symbols with invalid UTF-8 were repaired with U+FFFD (at most one line a "
        "minute)",
        {{"counter", notes.counter}});
  }
  if (symbol_limit_note_.add(notes.symbol_limit ? 1 : 0, now_ns)) {
    symbol_limit_note_.take();
    log_.warning(
        "metrics: a counter reached its symbol limit; new symbols count in the total only (at "
        "most one line a minute)",
        {{"counter", notes.counter}, {"max_symbols", kMaxSymbols}});
  }
  const std::uint64_t refused = refused_.load(std::memory_order_relaxed);
  if (refused_note_.add(refused - refused_noted_, now_ns)) {
    std::string example;
    {
      std::lock_guard lock(refused_example_mu_);
      example = std::exchange(refused_example_, {});
      refused_example_set_.store(false, std::memory_order_relaxed);
    }
    log_.warning(
        "metrics: messages refused: a target field is longer than the limit (at most one line "
        "a minute)",
        {{"max_target_field_bytes", kMaxTargetFieldBytes},
         {"refused", refused_note_.take()},
         {"example", example}});
  }
  refused_noted_ = refused;
}

}  // namespace crosscut::metrics
