// bus.emit to one handler, next to the peers doing the same work in this program:
//  - async: AsyncEventBus vs a std::mutex + std::condition_variable bounded queue with one
//    worker thread (same event payload: a shared_ptr made per emit, same handler);
//  - synchronous: the handler called the way a bus worker calls it vs Boost.Signals2.
// Emit latency is timed in batches of kBatch emits; p50 is the median batch / kBatch.
// Prints the ratio table at the end (goals: emit p50 <= 100 ns and half the mutex queue's).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <atomic>
#include <boost/signals2/signal.hpp>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "bus/async_event_bus.hpp"
#include "peer_ratio_reporter.hpp"

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

// Emit cost with a worker that keeps up: each iteration times kBatch emits, then (untimed)
// waits until the worker has handled them. p50 is taken over batches.
template <class Bus>
void emit_batches(benchmark::State& state, Bus& bus) {
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
  state.SetItemsProcessed(state.iterations() * kBatch);
  state.counters["p50_ns"] = per_emit.empty() ? 0 : per_emit[per_emit.size() / 2];
}

// Sustained rate: emit as fast as possible; the slower of emitter and worker sets the pace.
template <class Bus>
void emit_sustained(benchmark::State& state, Bus& bus) {
  std::int64_t i = 0;
  const auto start = std::chrono::steady_clock::now();
  for (auto _ : state)
    for (int k = 0; k < kBatch; ++k) bus.emit(Quote{++i});
  bus.drain();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  state.SetItemsProcessed(state.iterations() * kBatch);
  state.counters["handled_per_s"] = static_cast<double>(state.iterations() * kBatch) / seconds;
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

void crosscut_emit(benchmark::State& state) {
  CrosscutBus bus;
  emit_batches(state, bus);
}
BENCHMARK(crosscut_emit)->Name("crosscut/emit")->Iterations(10000)->UseManualTime();

void mutex_queue_emit(benchmark::State& state) {
  MutexQueueBus bus(kQueue);
  emit_batches(state, bus);
}
BENCHMARK(mutex_queue_emit)->Name("mutex_queue/emit")->Iterations(10000)->UseManualTime();

void crosscut_sustained(benchmark::State& state) {
  CrosscutBus bus;
  emit_sustained(state, bus);
}
BENCHMARK(crosscut_sustained)->Name("crosscut/sustained")->Iterations(10000)->UseRealTime();

void mutex_queue_sustained(benchmark::State& state) {
  MutexQueueBus bus(kQueue);
  emit_sustained(state, bus);
}
BENCHMARK(mutex_queue_sustained)->Name("mutex_queue/sustained")->Iterations(10000)->UseRealTime();

// What a bus worker does per handler: a std::function taking an EventRef, checked by name.
void crosscut_handler_call(benchmark::State& state) {
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
BENCHMARK(crosscut_handler_call)->Name("crosscut/sync_call")->MinTime(0.2);

void signals2_invoke(benchmark::State& state) {
  boost::signals2::signal<void(const Quote&)> signal;
  signal.connect(&on_quote);
  Quote q{1};
  for (auto _ : state) {
    signal(q);
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(signals2_invoke)->Name("signals2/sync_call")->MinTime(0.2);

}  // namespace

int main(int argc, char** argv) {
  return crosscut::bench::run_with_ratios(argc, argv, "crosscut", {"mutex_queue", "signals2"});
}
