// A log call with three fields, asynchronous, to a null sink — crosscut's engine next to a raw
// spdlog async logger that is handed the same record pre-formatted with fmt::format (the
// least a structured logger on spdlog could cost). Prints ns/call ratios at the end.
#include <benchmark/benchmark.h>
#include <fmt/format.h>
#include <spdlog/async.h>
#include <spdlog/async_logger.h>
#include <spdlog/details/thread_pool.h>
#include <spdlog/sinks/null_sink.h>

#include <cstdio>
#include <map>
#include <memory>
#include <string>

#include "logging/log_engine.hpp"

namespace {

using namespace crosscut;

constexpr std::size_t kQueue = 8192;

class SystemClock : public sdk::Clock {
 public:
  std::chrono::system_clock::time_point now() const noexcept override {
    return std::chrono::system_clock::now();
  }
};

class NullLogSink : public sdk::LogSink {
 public:
  void write(const sdk::LogRecord& r) noexcept override { bytes_ += r.json.size(); }
  void flush() noexcept override {}

 private:
  std::size_t bytes_ = 0;
};

struct Engine {
  explicit Engine(bool pii) {
    logging::LogOptions o;
    o.level = sdk::Level::info;
    o.pii.enabled = pii;
    o.per_message_per_second = 0;  // every call is written: sampling would flatter us
    o.queue_size = kQueue;
    engine = std::make_unique<logging::LogEngine>(o, clock);
    engine->add_sink(&sink);
    engine->start();
    log = engine->logger("orchestrator", "app");
  }
  SystemClock clock;
  NullLogSink sink;
  std::unique_ptr<logging::LogEngine> engine;
  Logger log;
};

Engine& engine(bool pii) {
  static Engine on(true), off(false);
  return pii ? on : off;
}

struct RawSpdlog {
  RawSpdlog() {
    pool = std::make_shared<spdlog::details::thread_pool>(kQueue, 1);
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

void BM_crosscut_log(benchmark::State& state) {
  Engine& e = engine(state.range(0) != 0);
  std::int64_t i = 0;
  for (auto _ : state)
    e.log.info("connection created",
               {{"exchange", "upbit"}, {"offset", ++i}, {"latency_ms", 1.25}});
  // Not timed (the loop has ended): leave no backlog to the next benchmark.
  if (state.thread_index() == 0) e.engine->flush();
}
BENCHMARK(BM_crosscut_log)
    ->ArgName("pii")
    ->Arg(0)
    ->Arg(1)
    ->Threads(1)
    ->Threads(2)
    ->UseRealTime()
    ->MinTime(0.3);

void BM_spdlog_raw(benchmark::State& state) {
  auto& r = raw();
  std::int64_t i = 0;
  for (auto _ : state)
    r.logger->info(fmt::format(
        R"("category":"app","message":"{}","extra":{{"exchange":"{}","offset":{},"latency_ms":{}}}}})",
        "connection created", "upbit", ++i, 1.25));
  if (state.thread_index() == 0) r.drain();
}
BENCHMARK(BM_spdlog_raw)->Threads(1)->Threads(2)->UseRealTime()->MinTime(0.3);

void BM_crosscut_disabled(benchmark::State& state) {
  Engine& e = engine(true);
  std::int64_t i = 0;
  for (auto _ : state)
    e.log.debug("connection created",
                {{"exchange", "upbit"}, {"offset", ++i}, {"latency_ms", 1.25}});
}
BENCHMARK(BM_crosscut_disabled)->MinTime(0.1);

void BM_spdlog_disabled(benchmark::State& state) {
  auto& r = raw();
  std::int64_t i = 0;
  for (auto _ : state)
    r.logger->debug("connection created exchange={} offset={} latency_ms={}", "upbit", ++i, 1.25);
}
BENCHMARK(BM_spdlog_disabled)->MinTime(0.1);

// Keeps each run's ns per call (aggregate over threads) to print the ratios.
class RatioReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const auto& r : runs) ns_[r.benchmark_name()] = r.GetAdjustedRealTime();
    ConsoleReporter::ReportRuns(runs);
  }
  void print_ratios() const {
    auto find = [&](const std::string& prefix, const std::string& suffix) -> double {
      for (const auto& [name, ns] : ns_)
        if (name.rfind(prefix, 0) == 0 && name.find(suffix) != std::string::npos) return ns;
      return 0;
    };
    std::printf(
        "\nns/call and ratio to raw spdlog (same record pre-formatted with fmt::format):\n");
    for (int threads : {1, 2}) {
      const std::string t = "threads:" + std::to_string(threads);
      const double peer = find("BM_spdlog_raw", t);
      for (int pii : {0, 1}) {
        const double ours = find("BM_crosscut_log/pii:" + std::to_string(pii), t);
        std::printf(
            "  %d thread(s), PII %-3s: crosscut %7.1f ns, spdlog %7.1f ns, ratio %.2fx (goal "
            "%.1fx)\n",
            threads, pii ? "on" : "off", ours, peer, peer > 0 ? ours / peer : 0.0, pii ? 1.5 : 1.2);
      }
    }
    std::printf("  disabled level: crosscut %.2f ns, spdlog %.2f ns (goal <= 5 ns)\n",
                find("BM_crosscut_disabled", ""), find("BM_spdlog_disabled", ""));
  }

 private:
  std::map<std::string, double> ns_;
};

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  reporter.print_ratios();
  benchmark::Shutdown();
  return 0;
}
