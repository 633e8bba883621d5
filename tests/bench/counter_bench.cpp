// counter.increment(symbol) with 1 and 2 threads, next to the seed's approach (one mutex
// around a hash map of counts keyed by minute and symbol), in the same program. Prints the
// ratio table at the end: crosscut (coarse clock) against the mutex+map peer and against
// itself with a precise clock (what the coarse clock saves).
#include <benchmark/benchmark.h>

#include <array>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "crosscut/counter.hpp"
#include "metrics/counter_state.hpp"
#include "metrics/metrics_service.hpp"
#include "peer_ratio_reporter.hpp"
#include "support/test_host.hpp"

namespace {

using namespace crosscut;

constexpr std::array<std::string_view, 8> kSymbols = {"KRW-BTC",  "KRW-ETH", "KRW-XRP",  "KRW-SOL",
                                                      "KRW-DOGE", "KRW-ADA", "KRW-AVAX", "KRW-TRX"};

class PreciseSystemClock final : public sdk::Clock {
 public:
  std::chrono::system_clock::time_point now() const noexcept override {
    return std::chrono::system_clock::now();
  }
};

class NullLogger final : public sdk::Logger {
 public:
  bool should_log(sdk::Level) const noexcept override { return false; }
  void log(sdk::Level, std::string_view, sdk::Fields) noexcept override {}
};

// The peer: what the seed does, made as fast as it goes in C++ (transparent lookup, no
// upper-casing per call).
class MutexMapCounter {
 public:
  explicit MutexMapCounter(const sdk::Clock& clock) : clock_(clock) {}
  void increment(std::string_view symbol) {
    std::int64_t minute = metrics::minute_of(clock_.now());
    std::lock_guard lock(mu_);
    auto& bucket = buckets_[minute];
    auto it = bucket.find(symbol);
    if (it == bucket.end()) it = bucket.emplace(std::string(symbol), 0).first;
    ++it->second;
  }

 private:
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  const sdk::Clock& clock_;
  std::mutex mu_;
  std::unordered_map<std::int64_t,
                     std::unordered_map<std::string, std::uint64_t, Hash, std::equal_to<>>>
      buckets_;
};

struct Fixture {
  CoarseSystemClock coarse;
  PreciseSystemClock precise;
  testing::InlineEventBus bus;
  NullLogger log;
  metrics::MetricsService service{metrics::MetricsOptions{}, nullptr, coarse, bus, log, nullptr};
  metrics::MetricsService precise_service{
      metrics::MetricsOptions{}, nullptr, precise, bus, log, nullptr};
  MinuteBatchCounter& counter = service.counter({"upbit", "korea", "ticker"});
  MinuteBatchCounter& precise_counter = precise_service.counter({"upbit", "korea", "ticker"});
  MutexMapCounter peer{coarse};
};

Fixture& fixture() {
  static Fixture f;
  return f;
}

template <class Counter>
void run(benchmark::State& state, Counter& counter) {
  std::size_t i = static_cast<std::size_t>(state.thread_index());
  for (auto _ : state) {
    counter.increment(kSymbols[i++ & 7]);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}

void crosscut_coarse(benchmark::State& state) {
  run(state, fixture().counter);
}
void crosscut_precise(benchmark::State& state) {
  run(state, fixture().precise_counter);
}
void mutex_map(benchmark::State& state) {
  run(state, fixture().peer);
}

BENCHMARK(crosscut_coarse)
    ->Name("crosscut/increment")
    ->Threads(1)
    ->Threads(2)
    ->UseRealTime()
    ->MinTime(0.3);
BENCHMARK(crosscut_precise)
    ->Name("crosscut_precise_clock/increment")
    ->Threads(1)
    ->Threads(2)
    ->UseRealTime()
    ->MinTime(0.3);
BENCHMARK(mutex_map)
    ->Name("mutex_map/increment")
    ->Threads(1)
    ->Threads(2)
    ->UseRealTime()
    ->MinTime(0.3);

}  // namespace

int main(int argc, char** argv) {
  return crosscut::bench::run_with_ratios(argc, argv, "crosscut",
                                          {"mutex_map", "crosscut_precise_clock"});
}
