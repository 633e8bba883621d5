#include <time.h>

#include "crosscut/counter.hpp"
#include "metrics/counter_state.hpp"

namespace crosscut {

MinuteBatchCounter::MinuteBatchCounter(std::unique_ptr<metrics::CounterState> state)
    : state_(std::move(state)) {}

MinuteBatchCounter::~MinuteBatchCounter() = default;

void MinuteBatchCounter::increment() {
  state_->count_now({});
}

void MinuteBatchCounter::increment(std::string_view symbol) {
  state_->count_now(symbol);
}

void MinuteBatchCounter::increment(std::string_view symbol,
                                   std::chrono::system_clock::time_point event_time) {
  state_->count(symbol, metrics::minute_of(event_time));
}

void MinuteBatchCounter::increment(std::string_view symbol, std::int64_t event_time_ms) {
  state_->count(symbol, metrics::minute_of_ms(event_time_ms));
}

const sdk::Target& MinuteBatchCounter::target() const noexcept {
  return state_->target();
}

std::chrono::system_clock::time_point CoarseSystemClock::now() const noexcept {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME_COARSE, &ts);
  return std::chrono::system_clock::time_point(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(
          std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec)));
}

}  // namespace crosscut
