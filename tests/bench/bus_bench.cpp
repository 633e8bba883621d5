// bus.emit to one handler, next to the peers doing the same work in this program:
//  - async: AsyncEventBus vs a std::mutex + std::condition_variable bounded queue with one
//    worker thread (same event payload: a shared_ptr made per emit, same handler);
//  - synchronous: the handler called the way a bus worker calls it vs Boost.Signals2.
// Emit latency is timed in batches of kBatch emits; p50 is the median batch / kBatch.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <atomic>
#include <boost/signals2/signal.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "crosscut/bus.hpp"

namespace {

using namespace crosscut;

constexpr int kBatch = 64;
constexpr std::size_t kQueue = 65536;

struct Quote {
  static constexpr std::string_view name = "quote";
  std::int64_t price = 0;
};

std::atomic<std::int64_t> g_sink{0};
void on_quote(const Quote& q) {
  g_sink.fetch_add(q.price, std::memory_order_relaxed);
}

class NullLogger : public sdk::Logger {
 public:
  bool should_log(sdk::Level) const noexcept override { return false; }
  void log(sdk::Level, std::string_view, sdk::Fields) noexcept override {}
};

// The textbook peer: a bounded queue behind one mutex and two condition variables.
class MutexQueueBus {
 public:
  explicit MutexQueueBus(std::size_t capacity) : capacity_(capacity), worker_([this] { run(); }) {}
  ~MutexQueueBus() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    not_empty_.notify_one();
    worker_.join();
  }
  void emit(Quote q) {
    auto event = std::make_shared<const Quote>(q);
    {
      std::unique_lock lock(mu_);
      not_full_.wait(lock, [&] { return queue_.size() < capacity_; });
      queue_.emplace_back(Quote::name, std::move(event));
    }
    not_empty_.notify_one();
  }
  void drain() {
    std::unique_lock lock(mu_);
    idle_.wait(lock, [&] { return queue_.empty() && !busy_; });
  }

 private:
  void run() {
    std::unique_lock lock(mu_);
    for (;;) {
      not_empty_.wait(lock, [&] { return stop_ || !queue_.empty(); });
      if (queue_.empty()) return;
      auto item = std::move(queue_.front());
      queue_.pop_front();
      busy_ = true;
      lock.unlock();
      not_full_.notify_one();
      on_quote(*static_cast<const Quote*>(item.second.get()));
      item.second.reset();
      lock.lock();
      busy_ = false;
      if (queue_.empty()) idle_.notify_all();
    }
  }

  const std::size_t capacity_;
  std::mutex mu_;
  std::condition_variable not_empty_, not_full_, idle_;
  std::deque<std::pair<std::string_view, std::shared_ptr<const void>>> queue_;
  bool stop_ = false;
  bool busy_ = false;
  std::thread worker_;
};

struct Results {
  double async_p50 = 0, mutex_p50 = 0;
  double async_rate = 0, mutex_rate = 0;
  double sync_call = 0, signals2 = 0;
} g_results;

// Emit cost with a worker that keeps up: each iteration times kBatch emits, then (untimed)
// waits until the worker has handled them. p50 is taken over batches.
template <class Bus>
void emit_batches(benchmark::State& state, Bus& bus, double& p50_out) {
  std::vector<double> per_emit;
  per_emit.reserve(static_cast<std::size_t>(state.max_iterations));
  std::int64_t i = 0;
  for (auto _ : state) {
    const auto start = std::chrono::steady_clock::now();
    for (int k = 0; k < kBatch; ++k) bus.emit(Quote{++i});
    const auto stop = std::chrono::steady_clock::now();
    const double seconds = std::chrono::duration<double>(stop - start).count();
    state.SetIterationTime(seconds);
    per_emit.push_back(seconds * 1e9 / kBatch);
    bus.drain();
  }
  std::sort(per_emit.begin(), per_emit.end());
  p50_out = per_emit.empty() ? 0 : per_emit[per_emit.size() / 2];
  state.SetItemsProcessed(state.iterations() * kBatch);
  state.counters["p50_ns"] = p50_out;
}

// Sustained rate: emit as fast as possible; the slower of emitter and worker sets the pace.
template <class Bus>
void emit_sustained(benchmark::State& state, Bus& bus, double& rate_out) {
  std::int64_t i = 0;
  const auto start = std::chrono::steady_clock::now();
  for (auto _ : state)
    for (int k = 0; k < kBatch; ++k) bus.emit(Quote{++i});
  bus.drain();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  rate_out = static_cast<double>(state.iterations() * kBatch) / seconds;
  state.SetItemsProcessed(state.iterations() * kBatch);
  state.counters["handled_per_s"] = rate_out;
}

struct CrosscutBus {
  CrosscutBus()
      : bus({.queue_size = kQueue, .overflow = OverflowPolicy::block, .workers = 1}, log) {
    sub = bus.on<Quote>(on_quote);
  }
  void emit(Quote q) { bus.emit(q); }
  void drain() { bus.drain(std::chrono::seconds(30)); }
  NullLogger log;
  AsyncEventBus bus;
  sdk::Subscription sub;
};

void BM_BusEmitAsync(benchmark::State& state) {
  CrosscutBus bus;
  emit_batches(state, bus, g_results.async_p50);
}
BENCHMARK(BM_BusEmitAsync)->Iterations(10000)->UseManualTime();

void BM_MutexCondvarQueueEmit(benchmark::State& state) {
  MutexQueueBus bus(kQueue);
  emit_batches(state, bus, g_results.mutex_p50);
}
BENCHMARK(BM_MutexCondvarQueueEmit)->Iterations(10000)->UseManualTime();

void BM_BusSustained(benchmark::State& state) {
  CrosscutBus bus;
  emit_sustained(state, bus, g_results.async_rate);
}
BENCHMARK(BM_BusSustained)->Iterations(10000)->UseRealTime();

void BM_MutexCondvarQueueSustained(benchmark::State& state) {
  MutexQueueBus bus(kQueue);
  emit_sustained(state, bus, g_results.mutex_rate);
}
BENCHMARK(BM_MutexCondvarQueueSustained)->Iterations(10000)->UseRealTime();

// What a bus worker does per handler: a std::function taking an EventRef, checked by name.
void BM_SyncHandlerCall(benchmark::State& state) {
  sdk::EventBus::Handler handler = [](const sdk::EventRef& e) {
    if (const Quote* q = e.as<Quote>()) on_quote(*q);
  };
  Quote q{1};
  const sdk::EventRef ref{Quote::name, &q};
  for (auto _ : state) {
    handler(ref);
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SyncHandlerCall)->MinTime(0.2);

void BM_Signals2Invoke(benchmark::State& state) {
  boost::signals2::signal<void(const Quote&)> signal;
  signal.connect(&on_quote);
  Quote q{1};
  for (auto _ : state) {
    signal(q);
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Signals2Invoke)->MinTime(0.2);

class RatioReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const auto& r : runs) {
      const double ns = r.GetAdjustedRealTime();
      if (r.benchmark_name().rfind("BM_SyncHandlerCall", 0) == 0) g_results.sync_call = ns;
      if (r.benchmark_name().rfind("BM_Signals2Invoke", 0) == 0) g_results.signals2 = ns;
    }
    ConsoleReporter::ReportRuns(runs);
  }
};

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  const auto& r = g_results;
  if (r.async_p50 > 0 && r.mutex_p50 > 0)
    std::printf(
        "\nemit p50: crosscut bus %.1f ns vs mutex+condvar queue %.1f ns -> ratio %.2f "
        "(goals: <= 100 ns, ratio <= 0.5)\n",
        r.async_p50, r.mutex_p50, r.async_p50 / r.mutex_p50);
  if (r.async_rate > 0 && r.mutex_rate > 0)
    std::printf(
        "sustained: crosscut bus %.2f M events/s vs mutex+condvar queue %.2f M/s -> "
        "ratio %.2f\n",
        r.async_rate / 1e6, r.mutex_rate / 1e6, r.async_rate / r.mutex_rate);
  if (r.sync_call > 0 && r.signals2 > 0)
    std::printf("synchronous handler call %.1f ns vs Boost.Signals2 %.1f ns -> ratio %.2f\n",
                r.sync_call, r.signals2, r.sync_call / r.signals2);
  return 0;
}
