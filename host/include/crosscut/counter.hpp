// Per-minute message counting (seed: MinuteBatchCounter). A MinuteBatchCounter counts the
// messages of one target {region, exchange, request_type} per minute and per symbol; the
// MetricsService that owns it publishes the counts as one JSON batch per counter per flush.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include "crosscut/export.hpp"
#include "crosscut/sdk/events.hpp"
#include "crosscut/sdk/host_context.hpp"

namespace crosscut {

namespace metrics {
class CounterState;
}

// The longest exchange, region or request_type accepted from input the runtime does not
// control (the agent's events): a longer one is refused, counted and reported, never
// truncated (two long names could otherwise merge). Counters obtained with
// Runtime::counter() are the application's own and are not limited.
inline constexpr std::size_t kMaxTargetFieldBytes = 64;

// The counting handle of one target. Obtained from the metrics service (rt.counter(target));
// the service owns it, so it lives as long as the service.
//
// Thread-safety: increment() may be called from any number of threads at once. Each thread
// counts into cells of its own (no lock is shared between threads on this path); a thread
// takes a lock private to its cell only when it starts a new minute, and interns each
// distinct symbol once. Counts made by a thread stay counted after the thread exits.
//
// Symbols: the detail key is "<SYMBOL upper-cased>_COUNT". An empty symbol counts in the
// total only. Symbols longer than 128 bytes are truncated (counted), invalid UTF-8 is replaced
// by U+FFFD; each is logged at most once a minute. A counter keeps at most 16384 distinct
// symbols; further ones count in the total only (logged at most once a minute).
//
// Time: without an event time the minute is that of the service's clock when the call is
// made; with one, the minute of the event time (any time is accepted, far past or future).
class CROSSCUT_API MinuteBatchCounter {
 public:
  explicit MinuteBatchCounter(std::unique_ptr<metrics::CounterState> state);
  ~MinuteBatchCounter();
  MinuteBatchCounter(const MinuteBatchCounter&) = delete;
  MinuteBatchCounter& operator=(const MinuteBatchCounter&) = delete;

  // A message without a symbol: counts in the total only.
  void increment();
  // A message for `symbol`, counted in the current minute.
  void increment(std::string_view symbol);
  // A message for `symbol`, counted in the minute of its event time.
  void increment(std::string_view symbol, std::chrono::system_clock::time_point event_time);
  // Same, with the event time in milliseconds since the Unix epoch.
  void increment(std::string_view symbol, std::int64_t event_time_ms);

  const sdk::Target& target() const noexcept;

  // For the metrics service.
  metrics::CounterState& state() noexcept { return *state_; }

 private:
  std::unique_ptr<metrics::CounterState> state_;
};

// The wall clock read with CLOCK_REALTIME_COARSE: a few nanoseconds per read instead of about
// twenty, at the resolution of the kernel tick (1-4 ms). Minute buckets need no more, so
// this is the clock to give the metrics service in production. Thread-safe.
class CROSSCUT_API CoarseSystemClock final : public sdk::Clock {
 public:
  std::chrono::system_clock::time_point now() const noexcept override;
};

}  // namespace crosscut
