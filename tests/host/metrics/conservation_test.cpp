// Conservation: the sum of published totals equals the number of increments, exactly, across
// threads, minute boundaries, flushes, sink refusals and shutdown; every detail matches.
#include <gtest/gtest.h>

#include <array>
#include <barrier>
#include <string>
#include <thread>
#include <vector>

#include "metrics/counter_state.hpp"
#include "metrics_test_support.hpp"

namespace crosscut::testing {
namespace {

using metrics::MetricsOptions;
using metrics::MetricsService;

constexpr int kThreads = 4;
constexpr int kPerThread = 20000;
constexpr std::array<std::string_view, 6> kSymbols = {"btc", "ETH", "xrp", "", "Sol", "KRW-BTC"};

std::string key_of(std::string_view s) {
  std::string k;
  for (char c : s) k += (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
  return k + "_COUNT";
}

// What a worker does for its i-th increment; mixes the four overloads.
struct Step {
  std::string_view symbol;
  int kind;             // 0: clock, 1: epoch ms, 2: time_point, 3: increment()
  std::int64_t ms = 0;  // event time for kinds 1 and 2
};
Step step(int thread, int i, std::int64_t base_ms) {
  Step s;
  s.symbol = kSymbols[static_cast<std::size_t>(thread + i) % kSymbols.size()];
  s.kind = i % 4;
  // Event times over ten minutes, in a scattered order so that minutes are revisited.
  s.ms = base_ms + (static_cast<std::int64_t>(i) * 7919 + thread * 104729) % (10 * 60'000);
  if (s.kind == 3) s.symbol = {};
  return s;
}

struct Expected {
  std::uint64_t total = 0;
  std::map<std::string, std::uint64_t> by_key;
};
Expected expected_counts(std::int64_t base_ms) {
  Expected e;
  for (int t = 0; t < kThreads; ++t)
    for (int i = 0; i < kPerThread; ++i) {
      Step s = step(t, i, base_ms);
      ++e.total;
      if (!s.symbol.empty()) ++e.by_key[key_of(s.symbol)];
    }
  return e;
}

// Runs the workers in phases of kPhase increments; at each phase boundary the test thread
// moves the clock 7 s on (across minute boundaries) and flushes while the workers go on with
// the next phase, so flushes really run concurrently with counting. Then shuts down.
constexpr int kPhase = 1000;
void run_workload(MetricsFixture& f, MetricsService& service, MinuteBatchCounter& counter) {
  const std::int64_t base_ms = f.clock.now_ms();
  std::barrier phase(kThreads + 1);
  std::vector<std::thread> workers;
  for (int t = 0; t < kThreads; ++t)
    workers.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        if (i % kPhase == 0) phase.arrive_and_wait();
        Step s = step(t, i, base_ms);
        switch (s.kind) {
          case 0:
            counter.increment(s.symbol);
            break;
          case 1:
            counter.increment(s.symbol, s.ms);
            break;
          case 2:
            counter.increment(
                s.symbol, std::chrono::system_clock::time_point(std::chrono::milliseconds(s.ms)));
            break;
          default:
            counter.increment();
            break;
        }
      }
    });
  for (int p = 0; p < kPerThread / kPhase; ++p) {
    phase.arrive_and_wait();
    f.clock.advance(std::chrono::seconds(7));
    service.flush_due();
  }
  for (auto& w : workers) w.join();
  f.clock.advance(std::chrono::seconds(7));
  service.flush_due();
  EXPECT_TRUE(service.shutdown(in_seconds(30)));
}

void expect_conserved(MetricsFixture& f, std::int64_t base_ms) {
  Expected want = expected_counts(base_ms);
  PublishedTotals got = add_up(f.sink.records());
  EXPECT_EQ(got.total, want.total);
  EXPECT_EQ(got.total, static_cast<std::uint64_t>(kThreads) * kPerThread);
  EXPECT_EQ(got.by_key, want.by_key);
}

MetricsOptions options() {
  MetricsOptions o;
  o.grace = std::chrono::seconds(2);
  return o;
}

TEST(MetricsConservation, ThreadsAcrossMinutesAndShutdown) {
  MetricsFixture f;
  MetricsService service(options(), &f.sink, f.clock, f.bus, f.log, f.error_callback());
  std::uint64_t events_total = 0;
  std::size_t events = 0;
  auto sub = f.bus.on<sdk::MetricsBatchPublished>([&](const sdk::MetricsBatchPublished& e) {
    events_total += e.total;  // the inline bus runs handlers on the flushing thread
    ++events;
  });
  const std::int64_t base_ms = f.clock.now_ms();
  run_workload(f, service, service.counter(upbit_ticker()));
  expect_conserved(f, base_ms);
  EXPECT_GT(f.sink.records().size(), 1u) << "the workload should span several flushes";
  EXPECT_EQ(events, f.sink.records().size());
  EXPECT_EQ(events_total, static_cast<std::uint64_t>(kThreads) * kPerThread);
  EXPECT_EQ(service.stats().published_increments,
            static_cast<std::uint64_t>(kThreads) * kPerThread);
  EXPECT_EQ(f.error_count(), 0u);
}

TEST(MetricsConservation, EventTimesLandInTheirMinute) {
  // Only event-time increments: the per-minute, per-symbol counts are known exactly.
  MetricsFixture f;
  MetricsService service(options(), &f.sink, f.clock, f.bus, f.log, f.error_callback());
  auto& counter = service.counter(upbit_ticker());
  const std::int64_t base_ms = f.clock.now_ms();
  std::map<std::int64_t, std::map<std::string, std::uint64_t>> want;
  for (int t = 0; t < kThreads; ++t)
    for (int i = 0; i < kPerThread; ++i) {
      Step s = step(t, i, base_ms);
      if (!s.symbol.empty()) ++want[s.ms / 60'000 * 60][key_of(s.symbol)];
    }
  std::vector<std::thread> workers;
  for (int t = 0; t < kThreads; ++t)
    workers.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        Step s = step(t, i, base_ms);
        counter.increment(s.symbol, s.ms);
      }
    });
  for (int pass = 0; pass < 200; ++pass) {
    f.clock.advance(std::chrono::seconds(5));
    service.flush_due();
  }
  for (auto& w : workers) w.join();
  ASSERT_TRUE(service.shutdown(in_seconds(30)));
  PublishedTotals got = add_up(f.sink.records());
  EXPECT_EQ(got.by_minute, want);
  EXPECT_EQ(got.total, static_cast<std::uint64_t>(kThreads) * kPerThread);
}

TEST(MetricsConservation, TransientlyRefusingSink) {
  MetricsFixture f;
  f.sink.refuse = [](std::uint64_t attempt) { return attempt % 3 != 2; };  // 2 of 3 refused
  MetricsService service(options(), &f.sink, f.clock, f.bus, f.log, f.error_callback());
  const std::int64_t base_ms = f.clock.now_ms();
  run_workload(f, service, service.counter(upbit_ticker()));
  expect_conserved(f, base_ms);
  EXPECT_GT(service.stats().refused_publishes, 0u);
  EXPECT_EQ(service.stats().dropped_batches, 0u);
  EXPECT_EQ(service.stats().buffered_batches, 0u);
}

TEST(MetricsConservation, ManyCountersPerThread) {
  // More counters than the per-thread fast lookup table holds: the slower lookup must count
  // just as exactly.
  MetricsFixture f;
  MetricsService service(options(), &f.sink, f.clock, f.bus, f.log, f.error_callback());
  constexpr int kCounters = 20;
  std::vector<MinuteBatchCounter*> counters;
  for (int c = 0; c < kCounters; ++c)
    counters.push_back(&service.counter({"ex" + std::to_string(c), "korea", "ticker"}));
  std::vector<std::thread> workers;
  for (int t = 0; t < kThreads; ++t)
    workers.emplace_back([&, t] {
      for (int i = 0; i < 5000; ++i)
        counters[static_cast<std::size_t>(i + t) % kCounters]->increment("BTC");
    });
  for (int pass = 0; pass < 50; ++pass) {
    f.clock.advance(std::chrono::seconds(13));
    service.flush_due();
  }
  for (auto& w : workers) w.join();
  ASSERT_TRUE(service.shutdown(in_seconds(30)));
  std::map<std::string, std::uint64_t> by_record_key;
  for (const auto& r : f.sink.records()) {
    ParsedBatch b = parse_batch(r.payload);
    for (const auto& item : b.items) by_record_key[r.key] += item.details.at("BTC_COUNT");
  }
  ASSERT_EQ(by_record_key.size(), static_cast<std::size_t>(kCounters));
  for (const auto& [key, n] : by_record_key) EXPECT_EQ(n, kThreads * 5000u / kCounters) << key;
}

TEST(MetricsConservation, ShutdownPublishesTheCurrentMinute) {
  MetricsFixture f;
  MetricsService service(options(), &f.sink, f.clock, f.bus, f.log, f.error_callback());
  auto& counter = service.counter(upbit_ticker());
  f.clock.advance(std::chrono::seconds(30));
  for (int i = 0; i < 10; ++i) counter.increment("BTC");
  service.flush_due();
  EXPECT_TRUE(f.sink.records().empty()) << "the current minute is not due before shutdown";
  EXPECT_TRUE(service.shutdown(in_seconds(10)));
  PublishedTotals got = add_up(f.sink.records());
  EXPECT_EQ(got.total, 10u);
  EXPECT_EQ(got.total_by_minute.begin()->first, f.clock.now_ms() / 60'000 * 60);
  EXPECT_EQ(f.sink.flushes(), 1);
}

TEST(MetricsConservation, FlushThreadThenShutdown) {
  // The real flush thread (a long interval: it never fires here) stops cleanly and shutdown
  // publishes everything.
  MetricsFixture f;
  MetricsOptions o = options();
  o.flush_interval = std::chrono::hours(1);
  MetricsService service(o, &f.sink, f.clock, f.bus, f.log, f.error_callback());
  service.start();
  service.start();
  auto& counter = service.counter(upbit_ticker());
  std::vector<std::thread> workers;
  for (int t = 0; t < kThreads; ++t)
    workers.emplace_back([&] {
      for (int i = 0; i < 1000; ++i) counter.increment("ETH");
    });
  for (auto& w : workers) w.join();
  EXPECT_TRUE(service.shutdown(in_seconds(10)));
  EXPECT_EQ(add_up(f.sink.records()).by_key["ETH_COUNT"], kThreads * 1000u);
  // Counting after shutdown is kept and published by another shutdown.
  counter.increment("ETH");
  EXPECT_TRUE(service.shutdown(in_seconds(10)));
  EXPECT_EQ(add_up(f.sink.records()).by_key["ETH_COUNT"], kThreads * 1000u + 1);
}

TEST(MetricsConservation, CountsOfExitedThreadsAreKept) {
  MetricsFixture f;
  MetricsService service(options(), &f.sink, f.clock, f.bus, f.log, f.error_callback());
  auto& counter = service.counter(upbit_ticker());
  for (int t = 0; t < 8; ++t) std::thread([&] { counter.increment("BTC"); }).join();
  f.clock.advance(std::chrono::seconds(63));
  service.flush_due();
  EXPECT_EQ(add_up(f.sink.records()).by_key["BTC_COUNT"], 8u);
}

TEST(MetricsConservation, CellsOfExitedThreadsAreDroppedOnceTheirCountsWentOut) {
  MetricsFixture f;
  MetricsService service(options(), &f.sink, f.clock, f.bus, f.log, f.error_callback());
  auto& counter = service.counter(upbit_ticker());
  const std::int64_t ms = f.clock.now_ms();
  constexpr int kExited = 50;
  for (int t = 0; t < kExited; ++t)
    std::thread([&] {
      counter.increment("BTC");
      counter.increment("ETH", ms + 3 * 60'000);
    }).join();
  auto& state = counter.state();
  EXPECT_EQ(state.held_cells(), static_cast<std::size_t>(kExited));
  f.clock.advance(std::chrono::seconds(63));
  service.flush_due();  // the current minute went out; the one 3 minutes ahead is not due
  EXPECT_EQ(state.held_cells(), static_cast<std::size_t>(kExited));
  f.clock.advance(std::chrono::minutes(4));
  service.flush_due();
  EXPECT_EQ(state.held_cells(), 0u);
  EXPECT_EQ(state.held_slots(), 0u);
  PublishedTotals t = add_up(f.sink.records());
  EXPECT_EQ(t.by_key,
            (std::map<std::string, std::uint64_t>{{"BTC_COUNT", kExited}, {"ETH_COUNT", kExited}}));
}

// Counts from its thread_local destructor, which runs after the counter released the
// thread's cells (it was constructed before them).
struct CountsAtThreadExit {
  MinuteBatchCounter* counter = nullptr;
  ~CountsAtThreadExit() {
    if (counter != nullptr) {
      counter->increment("LATE");
      counter->increment("LATE", std::int64_t{1'737'619'200'000});
    }
  }
};

TEST(MetricsConservation, CountingFromALateThreadLocalDestructor) {
  MetricsFixture f;
  MetricsService service(options(), &f.sink, f.clock, f.bus, f.log, f.error_callback());
  auto& counter = service.counter(upbit_ticker());
  std::vector<std::thread> threads;
  for (int t = 0; t < 3; ++t)
    threads.emplace_back([&] {
      static thread_local CountsAtThreadExit late;
      late.counter = &counter;
      counter.increment("BTC");
    });
  for (auto& t : threads) t.join();
  // The three threads' own cells and the one shared by counting that came after them.
  EXPECT_EQ(counter.state().held_cells(), 4u);
  ASSERT_TRUE(service.shutdown(in_seconds(10)));
  PublishedTotals t = add_up(f.sink.records());
  EXPECT_EQ(t.by_key, (std::map<std::string, std::uint64_t>{{"BTC_COUNT", 3}, {"LATE_COUNT", 6}}));
  EXPECT_EQ(counter.state().held_cells(), 1u);  // the shared one stays
}

}  // namespace
}  // namespace crosscut::testing
