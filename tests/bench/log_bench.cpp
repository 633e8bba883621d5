// Logging, three ways, in one run:
//  - per-call latency (p50/p99/p99.9) of a log call with three fields, asynchronous, PII
//    masking on, timed call by call in bursts of 20 with a pause between bursts (so that no
//    queue fills), on 1 and 2 threads: crosscut next to a raw spdlog async logger handed the
//    same record pre-formatted with fmt::format (the least a structured logger on spdlog
//    could cost). Goals: p50 <= 50 ns and <= 0.25x spdlog's p50; p99 <= 0.5x spdlog's p99.
//  - a call below the logger's level (goal: <= 2 ns), plain and behind CROSSCUT_LOG's check.
//  - the logging thread's throughput, records/s, PII on, three fields (goal: >= 1,000,000).
// Each call is timed with the CPU's time-stamp counter; the cost of the two reads around an
// empty call, measured in the same run, is subtracted from every sample.
#include <benchmark/benchmark.h>
#include <fmt/format.h>
#include <spdlog/async.h>
#include <spdlog/async_logger.h>
#include <spdlog/details/thread_pool.h>
#include <spdlog/sinks/null_sink.h>
#include <x86intrin.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "core/system_clock.hpp"
#include "logging/log_engine.hpp"
#include "peer_ratio_reporter.hpp"

namespace {

using namespace crosscut;

constexpr int kBurst = 20;
constexpr int kBursts = 5000;
constexpr auto kPause = std::chrono::microseconds(100);

class NullLogSink : public sdk::LogSink {
 public:
  void write(const sdk::LogRecord& r) noexcept override {
    bytes_.fetch_add(r.json.size(), std::memory_order_relaxed);
    records_.fetch_add(1, std::memory_order_relaxed);
  }
  void flush() noexcept override {}
  std::uint64_t records() const { return records_.load(); }

 private:
  std::atomic<std::size_t> bytes_{0};
  std::atomic<std::uint64_t> records_{0};
};

struct Engine {
  explicit Engine(std::size_t capacity = 1u << 20) {
    logging::LogOptions o;
    o.level = sdk::Level::info;
    o.pii.enabled = true;
    o.sampling.per_message_per_second = 0;  // every call is written: sampling would flatter us
    o.queue.capacity.bytes = capacity;
    o.crash_handler = false;
    engine = std::make_unique<logging::LogEngine>(o, clock);
    engine->add_sink(&sink);
    engine->start();
    log = engine->logger("orchestrator", "app");
  }
  core::SystemClock clock;
  NullLogSink sink;
  std::unique_ptr<logging::LogEngine> engine;
  Logger log;
};

Engine& engine() {
  static Engine e;
  return e;
}

struct RawSpdlog {
  RawSpdlog() {
    pool = std::make_shared<spdlog::details::thread_pool>(8192, 1);
    logger = std::make_shared<spdlog::async_logger>("raw",
                                                    std::make_shared<spdlog::sinks::null_sink_mt>(),
                                                    pool, spdlog::async_overflow_policy::block);
    logger->set_pattern(R"({"timestamp":"%Y-%m-%dT%H:%M:%S.%f%z","level":"%l","logger":"%n",%v})");
    logger->set_level(spdlog::level::info);
  }
  void drain() const {
    while (pool->queue_size() != 0) std::this_thread::yield();
  }
  std::shared_ptr<spdlog::details::thread_pool> pool;
  std::shared_ptr<spdlog::async_logger> logger;
};

RawSpdlog& raw() {
  static RawSpdlog r;
  return r;
}

std::uint64_t stamp() {
  _mm_lfence();
  const std::uint64_t t = __rdtsc();
  _mm_lfence();
  return t;
}

double ns_per_tick() {
  static const double rate = [] {
    const auto t0 = std::chrono::steady_clock::now();
    const std::uint64_t c0 = stamp();
    while (std::chrono::steady_clock::now() - t0 < std::chrono::milliseconds(20)) {
    }
    const std::uint64_t c1 = stamp();
    const auto ns =
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0)
            .count();
    return static_cast<double>(ns) / static_cast<double>(c1 - c0);
  }();
  return rate;
}

// The ticks two stamps around nothing cost (the median of many).
double stamp_overhead_ticks() {
  static const double overhead = [] {
    std::vector<std::uint64_t> v(100000);
    for (auto& x : v) {
      const std::uint64_t a = stamp();
      x = stamp() - a;
    }
    std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(v.size() / 2), v.end());
    return static_cast<double>(v[v.size() / 2]);
  }();
  return overhead;
}

// Yields rather than sleeps: the logging thread gets the CPU when it has work, and a vCPU
// that never idles is not moved to another host core between bursts (which would make
// every burst start on cold caches, for both loggers alike).
void pause_between_bursts() {
  const auto until = std::chrono::steady_clock::now() + kPause;
  while (std::chrono::steady_clock::now() < until) std::this_thread::yield();
}

template <class Call>
void burst_latency(benchmark::State& state, Call call) {
  std::vector<double> samples;
  samples.reserve(static_cast<std::size_t>(kBurst) * kBursts);
  const double rate = ns_per_tick(), overhead = stamp_overhead_ticks();
  std::int64_t i = 0;
  double total_ns = 0;
  for (auto _ : state) {
    double burst_ns = 0;
    for (int k = 0; k < kBurst; ++k) {
      const std::uint64_t a = stamp();
      call(++i);
      const std::uint64_t b = stamp();
      const double ns = std::max(0.0, (static_cast<double>(b - a) - overhead) * rate);
      samples.push_back(ns);
      burst_ns += ns;
    }
    state.SetIterationTime(burst_ns / 1e9 / kBurst);  // reported per call
    total_ns += burst_ns;
    pause_between_bursts();
  }
  std::sort(samples.begin(), samples.end());
  auto pct = [&](double p) {
    return samples[std::min(samples.size() - 1,
                            static_cast<std::size_t>(p * static_cast<double>(samples.size())))];
  };
  using benchmark::Counter;
  state.counters["p50_ns"] = Counter(pct(0.50), Counter::kAvgThreads);
  state.counters["p99_ns"] = Counter(pct(0.99), Counter::kAvgThreads);
  state.counters["p99.9_ns"] = Counter(pct(0.999), Counter::kAvgThreads);
  (void)total_ns;
}

void crosscut_latency(benchmark::State& state) {
  Engine& e = engine();
  burst_latency(state, [&](std::int64_t i) {
    e.log.info("connection created", {{"exchange", "upbit"}, {"offset", i}, {"latency_ms", 1.25}});
  });
  if (state.thread_index() == 0) e.engine->flush();
}
BENCHMARK(crosscut_latency)
    ->Name("crosscut/call_latency")
    ->Threads(1)
    ->Threads(2)
    ->Iterations(kBursts)
    ->UseManualTime();

void spdlog_latency(benchmark::State& state) {
  auto& r = raw();
  burst_latency(state, [&](std::int64_t i) {
    r.logger->info(fmt::format(
        R"("category":"app","message":"{}","extra":{{"exchange":"{}","offset":{},"latency_ms":{}}}}})",
        "connection created", "upbit", i, 1.25));
  });
  if (state.thread_index() == 0) r.drain();
}
BENCHMARK(spdlog_latency)
    ->Name("spdlog/call_latency")
    ->Threads(1)
    ->Threads(2)
    ->Iterations(kBursts)
    ->UseManualTime();

void crosscut_disabled(benchmark::State& state) {
  Engine& e = engine();
  std::int64_t i = 0;
  for (auto _ : state)
    e.log.debug("connection created",
                {{"exchange", "upbit"}, {"offset", ++i}, {"latency_ms", 1.25}});
}
BENCHMARK(crosscut_disabled)->Name("crosscut/disabled_level")->MinTime(0.1);

void spdlog_disabled(benchmark::State& state) {
  auto& r = raw();
  std::int64_t i = 0;
  for (auto _ : state)
    r.logger->debug("connection created exchange={} offset={} latency_ms={}", "upbit", ++i, 1.25);
}
BENCHMARK(spdlog_disabled)->Name("spdlog/disabled_level")->MinTime(0.1);

// The same calls behind a level check, so that the fields are built only when enabled.
void crosscut_disabled_guarded(benchmark::State& state) {
  Engine& e = engine();
  std::int64_t i = 0;
  for (auto _ : state)
    CROSSCUT_LOG(e.log, sdk::Level::debug, "connection created",
                 {{"exchange", "upbit"}, {"offset", ++i}, {"latency_ms", 1.25}});
  benchmark::DoNotOptimize(i);
}
BENCHMARK(crosscut_disabled_guarded)->Name("crosscut/disabled_level_guarded")->MinTime(0.1);

void spdlog_disabled_guarded(benchmark::State& state) {
  auto& r = raw();
  std::int64_t i = 0;
  for (auto _ : state)
    if (r.logger->should_log(spdlog::level::debug))
      r.logger->debug("connection created exchange={} offset={} latency_ms={}", "upbit", ++i, 1.25);
  benchmark::DoNotOptimize(i);
}
BENCHMARK(spdlog_disabled_guarded)->Name("spdlog/disabled_level_guarded")->MinTime(0.1);

// The logging thread alone: 200,000 records are queued first (a queue large enough to hold
// them), then the time until the last reaches the sink is what the logging thread took.
void crosscut_backend(benchmark::State& state) {
  constexpr std::int64_t kRecords = 200'000;
  for (auto _ : state) {
    state.PauseTiming();
    auto e = std::make_unique<Engine>(std::size_t{64} << 20);
    state.ResumeTiming();
    const auto t0 = std::chrono::steady_clock::now();
    for (std::int64_t i = 0; i < kRecords; ++i)
      e->log.info("connection created",
                  {{"exchange", "upbit"}, {"offset", i}, {"latency_ms", 1.25}});
    e->engine->flush(std::chrono::seconds(60));
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    state.SetIterationTime(s);
    state.counters["records_per_s"] = static_cast<double>(e->sink.records()) / s;
    state.PauseTiming();
    e.reset();
    state.ResumeTiming();
  }
  state.SetItemsProcessed(state.iterations() * kRecords);
}
BENCHMARK(crosscut_backend)->Name("crosscut/backend_throughput")->Iterations(3)->UseManualTime();

void spdlog_backend(benchmark::State& state) {
  constexpr std::int64_t kRecords = 200'000;
  for (auto _ : state) {
    auto pool = std::make_shared<spdlog::details::thread_pool>(kRecords, 1);
    auto sink = std::make_shared<spdlog::sinks::null_sink_mt>();
    auto logger = std::make_shared<spdlog::async_logger>("raw-backend", sink, pool,
                                                         spdlog::async_overflow_policy::block);
    logger->set_pattern(R"({"timestamp":"%Y-%m-%dT%H:%M:%S.%f%z","level":"%l","logger":"%n",%v})");
    const auto t0 = std::chrono::steady_clock::now();
    for (std::int64_t i = 0; i < kRecords; ++i)
      logger->info(fmt::format(
          R"("category":"app","message":"{}","extra":{{"exchange":"{}","offset":{},"latency_ms":{}}}}})",
          "connection created", "upbit", i, 1.25));
    while (pool->queue_size() != 0) std::this_thread::yield();
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    state.SetIterationTime(s);
    state.counters["records_per_s"] = static_cast<double>(kRecords) / s;
  }
  state.SetItemsProcessed(state.iterations() * kRecords);
}
BENCHMARK(spdlog_backend)->Name("spdlog/backend_throughput")->Iterations(3)->UseManualTime();

}  // namespace

int main(int argc, char** argv) {
  return crosscut::bench::run_with_ratios(argc, argv, {{"crosscut", {"spdlog"}}});
}
