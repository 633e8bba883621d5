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

void BM_Counter(benchmark::State& state) {
  run(state, fixture().counter);
}
void BM_CounterPreciseClock(benchmark::State& state) {
  run(state, fixture().precise_counter);
}
void BM_MutexMapPeer(benchmark::State& state) {
  run(state, fixture().peer);
}

BENCHMARK(BM_Counter)->Threads(1)->Threads(2)->UseRealTime()->MinTime(0.3);
BENCHMARK(BM_CounterPreciseClock)->Threads(1)->Threads(2)->UseRealTime()->MinTime(0.3);
BENCHMARK(BM_MutexMapPeer)->Threads(1)->Threads(2)->UseRealTime()->MinTime(0.3);

// Keeps, for every run, the aggregate throughput (items per second over all threads, by
// wall time) and the CPU time per increment (summed over threads: the work an increment
// costs, which stays meaningful when other programs share the cores).
class RatioReporter : public benchmark::ConsoleReporter {
 public:
  struct Result {
    double rate = 0;
    double cpu_ns = 0;
  };
  std::map<std::string, Result> results;
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const auto& r : runs) {
      auto it = r.counters.find("items_per_second");
      if (it != r.counters.end() && !r.error_occurred)
        results[r.benchmark_name()] = {it->second.value, r.GetAdjustedCPUTime()};
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

  auto get = [&](const std::string& name, int threads) {
    auto it = reporter.results.find(name +
                                    "/min_time:0.300/real_time/threads:" + std::to_string(threads));
    return it == reporter.results.end() ? RatioReporter::Result{} : it->second;
  };
  auto ours1 = get("BM_Counter", 1), ours2 = get("BM_Counter", 2);
  auto precise1 = get("BM_CounterPreciseClock", 1);
  auto peer1 = get("BM_MutexMapPeer", 1), peer2 = get("BM_MutexMapPeer", 2);
  if (ours1.rate <= 0 || peer1.rate <= 0) return 0;  // a filtered run: nothing to compare
  std::printf(
      "\n== counter.increment(symbol) summary (CPU ns per increment; wall throughput) ==\n");
  std::printf("1 thread, coarse clock : %6.1f ns CPU, %6.1f ns wall\n", ours1.cpu_ns,
              1e9 / ours1.rate);
  if (precise1.rate > 0)
    std::printf("1 thread, precise clock: %6.1f ns CPU, %6.1f ns wall\n", precise1.cpu_ns,
                1e9 / precise1.rate);
  std::printf("mutex+map peer, 1 thread: %6.1f ns CPU, %6.1f ns wall\n", peer1.cpu_ns,
              1e9 / peer1.rate);
  std::printf("ratio vs peer, 1 thread: %.1fx (CPU), %.1fx (wall)\n", peer1.cpu_ns / ours1.cpu_ns,
              ours1.rate / peer1.rate);
  if (ours2.rate > 0 && peer2.rate > 0) {
    std::printf(
        "2 threads / 1 thread throughput: %.2fx (wall); CPU per increment %.1f -> %.1f ns\n",
        ours2.rate / ours1.rate, ours1.cpu_ns, ours2.cpu_ns);
    std::printf("peer 2 threads / 1 thread: %.2fx (wall); CPU per increment %.1f -> %.1f ns\n",
                peer2.rate / peer1.rate, peer1.cpu_ns, peer2.cpu_ns);
    std::printf("ratio vs peer, 2 threads: %.1fx (wall)\n", ours2.rate / peer2.rate);
  }
  return 0;
}
