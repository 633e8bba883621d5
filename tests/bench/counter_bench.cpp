// counter.increment(symbol) with 1 and 2 threads, next to the seed's approach (one mutex
// around a hash map of counts keyed by minute and symbol), in the same program. Prints the
// ns per increment, the two-thread scaling and the ratio to the peer at the end.
#include <benchmark/benchmark.h>

#include <array>
#include <cstdio>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "crosscut/counter.hpp"
#include "metrics/counter_state.hpp"
#include "metrics/metrics_service.hpp"
#include "support/test_host.hpp"

namespace {

using namespace crosscut;

constexpr std::array<std::string_view, 8> kSymbols = {"KRW-BTC", "KRW-ETH", "KRW-XRP",
                                                      "KRW-SOL", "KRW-DOGE", "KRW-ADA",
                                                      "KRW-AVAX", "KRW-TRX"};

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
  std::unordered_map<std::int64_t, std::unordered_map<std::string, std::uint64_t, Hash,
                                                      std::equal_to<>>>
      buckets_;
};

struct Fixture {
  CoarseSystemClock coarse;
  PreciseSystemClock precise;
  testing::InlineEventBus bus;
  NullLogger log;
  metrics::MetricsService service{metrics::MetricsOptions{}, nullptr, coarse, bus, log, nullptr};
  metrics::MetricsService precise_service{metrics::MetricsOptions{}, nullptr, precise, bus, log,
                                          nullptr};
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

void BM_Counter(benchmark::State& state) { run(state, fixture().counter); }
void BM_CounterPreciseClock(benchmark::State& state) { run(state, fixture().precise_counter); }
void BM_MutexMapPeer(benchmark::State& state) { run(state, fixture().peer); }

BENCHMARK(BM_Counter)->Threads(1)->Threads(2)->UseRealTime()->MinTime(0.3);
BENCHMARK(BM_CounterPreciseClock)->Threads(1)->Threads(2)->UseRealTime()->MinTime(0.3);
BENCHMARK(BM_MutexMapPeer)->Threads(1)->Threads(2)->UseRealTime()->MinTime(0.3);

// Keeps the aggregate throughput (items per second over all threads) of every run.
class RatioReporter : public benchmark::ConsoleReporter {
 public:
  std::map<std::string, double> rate;
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const auto& r : runs) {
      auto it = r.counters.find("items_per_second");
      if (it != r.counters.end() && !r.error_occurred) rate[r.benchmark_name()] = it->second.value;
    }
    ConsoleReporter::ReportRuns(runs);
  }
};

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();

  auto get = [&](const std::string& name) {
    auto it = reporter.rate.find(name);
    return it == reporter.rate.end() ? 0.0 : it->second;
  };
  const std::string suffix = "/min_time:0.300/real_time/threads:";
  double ours1 = get("BM_Counter" + suffix + "1"), ours2 = get("BM_Counter" + suffix + "2");
  double precise1 = get("BM_CounterPreciseClock" + suffix + "1");
  double peer1 = get("BM_MutexMapPeer" + suffix + "1"), peer2 = get("BM_MutexMapPeer" + suffix + "2");
  if (ours1 <= 0 || peer1 <= 0) return 0;  // filtered run: nothing to compare
  std::printf("\ncounter.increment(symbol), coarse clock: %.1f ns/op on 1 thread", 1e9 / ours1);
  if (precise1 > 0) std::printf(" (%.1f ns/op with a precise clock)", 1e9 / precise1);
  std::printf("\n");
  if (ours2 > 0) std::printf("2 threads / 1 thread throughput: %.2fx\n", ours2 / ours1);
  std::printf("vs mutex+map peer, 1 thread: %.1fx (peer %.1f ns/op)\n", ours1 / peer1, 1e9 / peer1);
  if (ours2 > 0 && peer2 > 0)
    std::printf("vs mutex+map peer, 2 threads: %.1fx (peer %.1f ns/op aggregate)\n", ours2 / peer2,
                1e9 / peer2);
  return 0;
}
