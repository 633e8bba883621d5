// Counters created by MetricsService::count() for targets named by input: released once drained
// and idle, never with a count unpublished, bounded in number however many targets pass, and
// refused when a target field is too long.
#include <gtest/gtest.h>

#include <barrier>
#include <string>
#include <thread>
#include <vector>

#include "metrics/symbol_key.hpp"
#include "metrics_test_support.hpp"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define CROSSCUT_TEST_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define CROSSCUT_TEST_SANITIZED 1
#endif
#endif

namespace crosscut::testing {
namespace {

#ifdef CROSSCUT_TEST_SANITIZED
constexpr std::size_t kManyTargets = 100'000;  // same hour, a tenth of the rate
#else
constexpr std::size_t kManyTargets = 1'000'000;
#endif

using metrics::MetricsOptions;
using metrics::MetricsService;

sdk::Target target(std::size_t i) {
  return {"ex" + std::to_string(i % 97), "region" + std::to_string(i), "ticker"};
}

TEST(MetricsRelease, MillionTargetsOverAnHourKeepLiveCountersBoundedAndPublishEverything) {
  MetricsFixture f;
  SummingSink sink;
  MetricsService service(MetricsOptions{}, &sink, f.clock, f.bus, f.log, f.error_callback());
  constexpr std::size_t kTargets = kManyTargets;
  constexpr int kMinutes = 60;
  constexpr std::size_t kPerSecond = kTargets / (kMinutes * 60) + 1;
  const std::string_view symbols[] = {"btc", "ETH", ""};
  std::uint64_t made = 0;
  std::map<std::string, std::uint64_t> made_by_key;
  std::size_t max_live = 0;
  std::size_t next = 0;
  for (int second = 0; next < kTargets; ++second) {
    for (std::size_t k = 0; k < kPerSecond && next < kTargets; ++k, ++next) {
      // One to three messages per target, with the clock's minute or an event time.
      const int messages = 1 + static_cast<int>(next % 3);
      for (int m = 0; m < messages; ++m) {
        std::string_view symbol = symbols[(next + static_cast<std::size_t>(m)) % 3];
        std::optional<std::int64_t> event_ms;
        if (m == 1) event_ms = f.clock.now_ms() - 500;
        ASSERT_TRUE(service.count(target(next), symbol, event_ms));
        ++made;
        if (!symbol.empty()) ++made_by_key[metrics::key_for_symbol(symbol)];
      }
    }
    f.clock.advance(std::chrono::seconds(1));
    if (second % 60 == 59) {  // the default flush_interval
      max_live = std::max(max_live, service.stats().counters_live);
      service.flush_due();
      max_live = std::max(max_live, service.stats().counters_live);
    }
  }
  // Live counters: about the targets of the last few minutes (the current one, the grace
  // and the flush period, idle_release_after), whatever the total.
  const std::size_t per_minute = kPerSecond * 60;
  EXPECT_GE(max_live, per_minute);
  EXPECT_LE(max_live, 5 * per_minute) << "counters are not released";
  const metrics::MetricsStats mid = service.stats();
  EXPECT_GT(mid.counters_released, kTargets - 5 * per_minute);

  ASSERT_TRUE(service.shutdown(in_seconds(30)));
  const metrics::MetricsStats end = service.stats();
  EXPECT_EQ(sink.total(), made);
  EXPECT_EQ(end.published_increments, made);
  EXPECT_EQ(sink.by_key(), made_by_key);
  EXPECT_EQ(end.counters_retained, 0u);
  // Every target was counted at one moment: each had one counter, released or still held.
  EXPECT_EQ(end.counters_released + end.counters_live, kTargets);
}

TEST(MetricsRelease, ATargetThatComesBackAfterItsReleaseGetsAFreshCounter) {
  MetricsFixture f;
  MetricsService service(MetricsOptions{}, &f.sink, f.clock, f.bus, f.log, f.error_callback());
  const sdk::Target t = upbit_ticker();
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(service.count(t, "btc"));
  EXPECT_EQ(service.stats().counters_live, 1u);

  f.clock.advance(std::chrono::seconds(70));
  service.flush_due();  // published, not idle long enough yet
  EXPECT_EQ(f.sink.records().size(), 1u);
  EXPECT_EQ(service.stats().counters_live, 1u);
  EXPECT_EQ(service.stats().counters_released, 0u);

  f.clock.advance(std::chrono::minutes(2));
  service.flush_due();
  EXPECT_EQ(service.stats().counters_live, 0u);
  EXPECT_EQ(service.stats().counters_released, 1u);

  for (int i = 0; i < 2; ++i) ASSERT_TRUE(service.count(t, "eth"));
  EXPECT_EQ(service.stats().counters_live, 1u);
  ASSERT_TRUE(service.shutdown(in_seconds(10)));
  PublishedTotals got = add_up(f.sink.records());
  EXPECT_EQ(got.batches, 2u);
  EXPECT_EQ(got.total, 5u);
  EXPECT_EQ(got.by_key, (std::map<std::string, std::uint64_t>{{"BTC_COUNT", 3}, {"ETH_COUNT", 2}}));
}

TEST(MetricsRelease, ACounterWithUnpublishedCountsIsNeverReleased) {
  MetricsFixture f;
  MetricsOptions o;
  o.idle_release_after = std::chrono::nanoseconds(0);  // as eager as it gets
  MetricsService service(o, &f.sink, f.clock, f.bus, f.log, f.error_callback());
  const sdk::Target now_target{"upbit", "korea", "ticker"};
  const sdk::Target ahead_target{"upbit", "korea", "orderbook"};
  ASSERT_TRUE(service.count(now_target, "BTC"));
  // Four minutes ahead: inside the horizon, so held until its minute has ended.
  ASSERT_TRUE(service.count(ahead_target, "BTC", f.clock.now_ms() + 4 * 60'000));

  f.clock.advance(std::chrono::seconds(30));
  service.flush_due();  // neither minute is due
  EXPECT_EQ(service.stats().counters_live, 2u);
  EXPECT_TRUE(f.sink.records().empty());

  f.clock.advance(std::chrono::seconds(40));
  service.flush_due();  // the current minute went out: that counter goes, the other stays
  EXPECT_EQ(service.stats().counters_live, 1u);
  EXPECT_EQ(service.stats().counters_released, 1u);
  EXPECT_EQ(f.sink.records().size(), 1u);

  f.clock.advance(std::chrono::minutes(4));
  service.flush_due();
  EXPECT_EQ(service.stats().counters_live, 0u);
  EXPECT_EQ(service.stats().counters_released, 2u);
  PublishedTotals got = add_up(f.sink.records());
  EXPECT_EQ(got.total, 2u);
  EXPECT_EQ(got.batches, 2u);
}

TEST(MetricsRelease, CountsOfATargetWithARetainedCounterGoToIt) {
  MetricsFixture f;
  MetricsService service(MetricsOptions{}, &f.sink, f.clock, f.bus, f.log, f.error_callback());
  const sdk::Target held = upbit_ticker();
  auto& counter = service.counter(held);
  counter.increment("BTC");
  ASSERT_TRUE(service.count(held, "btc"));
  ASSERT_TRUE(service.count(held, "ETH", f.clock.now_ms()));

  // Counted first by count(), then retained: what count() held still goes out, and later
  // counts go to the retained counter.
  const sdk::Target later{"bithumb", "korea", "ticker"};
  ASSERT_TRUE(service.count(later, "XRP"));
  service.counter(later).increment("XRP");
  ASSERT_TRUE(service.count(later, "XRP"));

  f.clock.advance(std::chrono::seconds(70));
  service.flush_due();
  std::map<std::string, std::uint64_t> by_record_key;
  std::size_t held_batches = 0;
  for (const auto& r : f.sink.records()) {
    by_record_key[r.key] += add_up({r}).total;
    if (r.key == metrics::batch_key(held)) ++held_batches;
  }
  EXPECT_EQ(held_batches, 1u) << "one batch per flush for a target counted both ways";
  EXPECT_EQ(by_record_key[metrics::batch_key(held)], 3u);
  EXPECT_EQ(by_record_key[metrics::batch_key(later)], 3u);
  EXPECT_EQ(service.stats().counters_retained, 2u);
  ASSERT_TRUE(service.shutdown(in_seconds(10)));
}

TEST(MetricsRelease, TooLongTargetFieldsAreRefusedCountedAndLoggedAtMostOnceAMinute) {
  MetricsFixture f;
  MetricsService service(MetricsOptions{}, &f.sink, f.clock, f.bus, f.log, f.error_callback());
  const std::string longest(kMaxTargetFieldBytes, 'x');
  const std::string too_long(kMaxTargetFieldBytes + 1, 'x');
  EXPECT_TRUE(service.count({longest, longest, longest}, "BTC"));
  EXPECT_FALSE(service.count({too_long, "korea", "ticker"}, "BTC"));
  EXPECT_FALSE(service.count({"upbit", too_long, "ticker"}, "BTC"));
  EXPECT_FALSE(service.count({"upbit", "korea", std::string(9000, 'y')}, "BTC"));
  EXPECT_EQ(service.stats().increments_refused, 3u);
  EXPECT_EQ(service.stats().counters_live, 1u);

  const std::string line = "target field is longer than the limit";
  f.clock.advance(std::chrono::seconds(70));
  service.flush_due();
  EXPECT_EQ(f.logs_containing(line), 1u);
  EXPECT_FALSE(service.count({too_long, "korea", "ticker"}, "BTC"));
  f.clock.advance(std::chrono::seconds(30));
  service.flush_due();
  EXPECT_EQ(f.logs_containing(line), 1u) << "a second line within the minute";
  f.clock.advance(std::chrono::seconds(31));
  service.flush_due();
  EXPECT_EQ(f.logs_containing(line), 2u) << "the refusal since the last line is reported";
  service.flush_due();
  EXPECT_EQ(f.logs_containing(line), 2u) << "nothing new, nothing said";

  ASSERT_TRUE(service.shutdown(in_seconds(10)));
  EXPECT_EQ(service.stats().increments_refused, 4u);
  EXPECT_EQ(add_up(f.sink.records()).total, 1u);
}

TEST(MetricsRelease, TruncatedSymbolsAreCountedOnBothPaths) {
  MetricsFixture f;
  MetricsService service(MetricsOptions{}, &f.sink, f.clock, f.bus, f.log, f.error_callback());
  const std::string huge(metrics::kMaxSymbolBytes + 1, 'q');
  ASSERT_TRUE(service.count(upbit_ticker(), huge));
  ASSERT_TRUE(service.count(upbit_ticker(), huge + "more"));
  service.counter({"bithumb", "korea", "ticker"}).increment(huge);
  service.counter({"bithumb", "korea", "ticker"}).increment("short");
  f.clock.advance(std::chrono::seconds(70));
  service.flush_due();
  EXPECT_EQ(service.stats().symbols_truncated, 3u);
  EXPECT_EQ(f.logs_containing("truncated"), 1u);
  ASSERT_TRUE(service.shutdown(in_seconds(10)));
  const std::string key = std::string(metrics::kMaxSymbolBytes, 'Q') + "_COUNT";
  EXPECT_EQ(add_up(f.sink.records()).by_key,
            (std::map<std::string, std::uint64_t>{{key, 3}, {"SHORT_COUNT", 1}}));
}

TEST(MetricsRelease, ASymbolLimitHoldsForCountedTargetsToo) {
  MetricsFixture f;
  MetricsService service(MetricsOptions{}, &f.sink, f.clock, f.bus, f.log, f.error_callback());
  const std::size_t distinct = metrics::kMaxSymbols + 5;
  for (std::size_t i = 0; i < distinct; ++i)
    ASSERT_TRUE(service.count(upbit_ticker(), "S" + std::to_string(i)));
  ASSERT_TRUE(service.shutdown(in_seconds(10)));
  PublishedTotals got = add_up(f.sink.records());
  EXPECT_EQ(got.total, distinct);
  EXPECT_EQ(got.by_key.size(), metrics::kMaxSymbols);
  EXPECT_EQ(f.logs_containing("symbol limit"), 1u);
}

// Counting threads race the flusher, which releases counters as soon as they are drained
// (idle_release_after 0, event times in the past): whatever the interleaving, every count is
// published exactly once.
TEST(MetricsRelease, ConcurrentCountsAndReleasesLoseNothing) {
  MetricsFixture f;
  SummingSink sink;
  MetricsOptions o;
  o.idle_release_after = std::chrono::nanoseconds(0);
  MetricsService service(o, &sink, f.clock, f.bus, f.log, f.error_callback());
  constexpr int kThreads = 4;
  constexpr int kPerThread = 40'000;
  constexpr int kPhase = 2'000;
  constexpr std::size_t kTargetsInUse = 50;
  std::barrier phase(kThreads + 1);
  std::vector<std::thread> workers;
  for (int t = 0; t < kThreads; ++t)
    workers.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        if (i % kPhase == 0) phase.arrive_and_wait();
        const std::size_t which = static_cast<std::size_t>(i * 7 + t) % kTargetsInUse;
        // A minute already over: due at the next pass, so the counter is released while
        // other threads keep counting into the same target.
        EXPECT_TRUE(service.count(target(which), (i % 2) ? "btc" : "",
                                  f.clock.now_ms() - 120'000 - (i % 5) * 60'000));
      }
    });
  for (int p = 0; p < kPerThread / kPhase; ++p) {
    phase.arrive_and_wait();
    for (int pass = 0; pass < 20; ++pass) {
      f.clock.advance(std::chrono::seconds(1));
      service.flush_due();
    }
  }
  for (auto& w : workers) w.join();
  ASSERT_TRUE(service.shutdown(in_seconds(30)));
  EXPECT_EQ(sink.total(), static_cast<std::uint64_t>(kThreads) * kPerThread);
  EXPECT_EQ(sink.by_key().at("BTC_COUNT"), static_cast<std::uint64_t>(kThreads) * kPerThread / 2);
  EXPECT_GT(service.stats().counters_released, kTargetsInUse) << "releases happened";
}

}  // namespace
}  // namespace crosscut::testing
