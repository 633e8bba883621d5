// A log call with three fields, asynchronous, to a null sink — crosscut's engine next to a raw
// spdlog async logger that is handed the same record pre-formatted with fmt::format (the
// least a structured logger on spdlog could cost). Prints the ratio table at the end: crosscut
// (PII masking off) and crosscut_pii (on) against spdlog. Goals: spdlog time / ours at least
// 1/1.2 without PII and 1/1.5 with it; a call below the level in at most 5 ns.
#include <benchmark/benchmark.h>
#include <fmt/format.h>
#include <spdlog/async.h>
#include <spdlog/async_logger.h>
#include <spdlog/details/thread_pool.h>
#include <spdlog/sinks/null_sink.h>

#include <memory>
#include <string>

#include "logging/log_engine.hpp"
#include "peer_ratio_reporter.hpp"

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
    o.sampling.per_message_per_second = 0;  // every call is written: sampling would flatter us
    o.queue.size = kQueue;
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

void crosscut_log(benchmark::State& state, bool pii) {
  Engine& e = engine(pii);
  std::int64_t i = 0;
  for (auto _ : state)
    e.log.info("connection created",
               {{"exchange", "upbit"}, {"offset", ++i}, {"latency_ms", 1.25}});
  // Not timed (the loop has ended): leave no backlog to the next benchmark.
  if (state.thread_index() == 0) e.engine->flush();
}
BENCHMARK_CAPTURE(crosscut_log, pii_off, false)
    ->Name("crosscut/log_call")
    ->Threads(1)
    ->Threads(2)
    ->UseRealTime()
    ->MinTime(0.3);
BENCHMARK_CAPTURE(crosscut_log, pii_on, true)
    ->Name("crosscut_pii/log_call")
    ->Threads(1)
    ->Threads(2)
    ->UseRealTime()
    ->MinTime(0.3);

void spdlog_raw(benchmark::State& state) {
  auto& r = raw();
  std::int64_t i = 0;
  for (auto _ : state)
    r.logger->info(fmt::format(
        R"("category":"app","message":"{}","extra":{{"exchange":"{}","offset":{},"latency_ms":{}}}}})",
        "connection created", "upbit", ++i, 1.25));
  if (state.thread_index() == 0) r.drain();
}
BENCHMARK(spdlog_raw)->Name("spdlog/log_call")->Threads(1)->Threads(2)->UseRealTime()->MinTime(0.3);

void crosscut_disabled(benchmark::State& state) {
  Engine& e = engine(true);
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

}  // namespace

int main(int argc, char** argv) {
  return crosscut::bench::run_with_ratios(argc, argv,
                                          {{"crosscut", {"spdlog"}}, {"crosscut_pii", {"spdlog"}}});
}
