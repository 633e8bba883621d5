// A sink that refuses batches: retried first at the next flush, never doubled; an error once
// it keeps refusing; a bounded buffer whose overflow is counted and logged.
#include <gtest/gtest.h>

#include <stdexcept>

#include "metrics_test_support.hpp"

namespace crosscut::testing {
namespace {

using metrics::MetricsOptions;
using metrics::MetricsService;

MetricsOptions options() {
  MetricsOptions o;
  o.failure_threshold = 3;
  o.max_buffered_bytes.bytes = 1 << 20;
  return o;
}

// Counts `n` BTC messages in the current minute, then moves past it and flushes.
void count_minute(MetricsFixture& f, MetricsService& s, int n) {
  auto& c = s.counter(upbit_ticker());
  for (int i = 0; i < n; ++i) c.increment("BTC");
  f.clock.advance(std::chrono::seconds(60));
  s.flush_due();
}

TEST(MetricsSinkFailure, KeepsRefusedBatchesRaisesOnceAndRecovers) {
  MetricsFixture f;
  std::atomic<bool> down{true};
  f.sink.refuse = [&](std::uint64_t) { return down.load(); };
  f.clock.advance(std::chrono::seconds(5));
  MetricsService service(options(), &f.sink, f.clock, f.bus, f.log, f.error_callback());
  std::uint64_t counted = 0;
  for (int m = 1; m <= 6; ++m) {
    count_minute(f, service, m);
    counted += static_cast<std::uint64_t>(m);
  }
  EXPECT_TRUE(f.sink.records().empty());
  EXPECT_EQ(service.stats().buffered_batches, 6u);
  ASSERT_EQ(f.error_count(), 1u) << "one error per outage, at the threshold";
  EXPECT_EQ(f.errors[0].kind, "metrics_publish");
  EXPECT_EQ(f.errors[0].target, upbit_ticker());
  EXPECT_EQ(f.logs_containing("keeps refusing"), 1u);

  down = false;
  count_minute(f, service, 10);
  counted += 10;
  auto records = f.sink.records();
  ASSERT_EQ(records.size(), 7u);
  // Oldest first: the buffered minutes in order, then the new one.
  std::int64_t previous = 0;
  for (const auto& r : records) {
    ParsedBatch b = parse_batch(r.payload);
    ASSERT_EQ(b.items.size(), 1u);
    EXPECT_GT(b.items[0].minute, previous);
    previous = b.items[0].minute;
  }
  EXPECT_EQ(add_up(records).total, counted);
  EXPECT_EQ(service.stats().buffered_batches, 0u);
  EXPECT_EQ(f.logs_containing("accepts batches again"), 1u);

  // A second outage raises a second error.
  down = true;
  for (int m = 0; m < 3; ++m) count_minute(f, service, 1);
  EXPECT_EQ(f.error_count(), 2u);
  down = false;
  EXPECT_TRUE(service.shutdown(in_seconds(10)));
  EXPECT_EQ(add_up(f.sink.records()).total, counted + 3);
}

TEST(MetricsSinkFailure, BufferOverflowIsCountedAndLogged) {
  MetricsFixture f;
  std::atomic<bool> down{true};
  f.sink.refuse = [&](std::uint64_t) { return down.load(); };
  MetricsOptions o = options();
  o.max_buffered_bytes.bytes = 1;  // room for none: only the newest batch is kept
  f.clock.advance(std::chrono::seconds(5));
  MetricsService service(o, &f.sink, f.clock, f.bus, f.log, f.error_callback());
  std::uint64_t counted = 0;
  for (int m = 1; m <= 5; ++m) {
    count_minute(f, service, m);
    counted += static_cast<std::uint64_t>(m);
  }
  auto stats = service.stats();
  EXPECT_EQ(stats.buffered_batches, 1u);
  EXPECT_GT(stats.buffered_bytes, 0u);
  EXPECT_EQ(stats.dropped_batches, 4u);
  EXPECT_EQ(stats.dropped_increments, 1u + 2u + 3u + 4u);  // the oldest went first
  EXPECT_EQ(f.logs_containing("buffer full"), 4u);
  down = false;
  ASSERT_TRUE(service.shutdown(in_seconds(10)));
  EXPECT_EQ(add_up(f.sink.records()).total + service.stats().dropped_increments, counted);
}

TEST(MetricsSinkFailure, UnconfirmedFlushIsReportedButNeverResent) {
  // flush() == false means "not confirmed yet": the accepted records may still arrive, so
  // sending them again could double the counts.
  MetricsFixture f;
  f.sink.flush_result = false;
  MetricsService service(options(), &f.sink, f.clock, f.bus, f.log, f.error_callback());
  auto& counter = service.counter(upbit_ticker());
  for (int i = 0; i < 42; ++i) counter.increment("BTC");
  EXPECT_FALSE(service.shutdown(in_seconds(10)));
  EXPECT_EQ(f.sink.records().size(), 1u);
  EXPECT_EQ(f.sink.attempts(), 1u);
  EXPECT_EQ(add_up(f.sink.records()).total, 42u);
  EXPECT_EQ(f.logs_containing("did not confirm delivery"), 1u);
}

TEST(MetricsSinkFailure, ShutdownRetriesUntilTheSinkAccepts) {
  MetricsFixture f;
  f.sink.refuse = [](std::uint64_t attempt) { return attempt < 4; };
  MetricsService service(options(), &f.sink, f.clock, f.bus, f.log, f.error_callback());
  auto& counter = service.counter(upbit_ticker());
  for (int i = 0; i < 9; ++i) counter.increment("ETH");
  EXPECT_TRUE(service.shutdown(in_seconds(30)));
  EXPECT_EQ(f.sink.attempts(), 5u);
  EXPECT_EQ(add_up(f.sink.records()).by_key.at("ETH_COUNT"), 9u);
}

TEST(MetricsSinkFailure, ShutdownDeadlineLossIsAnErrorNotSilence) {
  MetricsFixture f;
  f.sink.refuse = [](std::uint64_t) { return true; };
  MetricsService service(options(), &f.sink, f.clock, f.bus, f.log, f.error_callback());
  auto& counter = service.counter(upbit_ticker());
  for (int i = 0; i < 3; ++i) counter.increment("ETH");
  EXPECT_FALSE(service.shutdown(std::chrono::steady_clock::now()));
  EXPECT_EQ(service.stats().dropped_increments, 3u);
  EXPECT_EQ(f.logs_containing("they are lost"), 1u);
  ASSERT_GE(f.error_count(), 1u);
  EXPECT_EQ(f.errors.back().kind, "metrics_publish");
}

class ThrowingSink : public RecordingSink {
 public:
  std::atomic<int> throws{2};
  bool publish(sdk::Record record) override {
    if (throws.fetch_sub(1) > 0) throw std::runtime_error("broker exploded");
    return RecordingSink::publish(std::move(record));
  }
};

TEST(MetricsSinkFailure, ThrowingPublishIsARefusal) {
  MetricsFixture f;
  ThrowingSink sink;
  f.clock.advance(std::chrono::seconds(5));
  MetricsService service(options(), &sink, f.clock, f.bus, f.log, f.error_callback());
  count_minute(f, service, 4);
  count_minute(f, service, 5);
  EXPECT_TRUE(sink.records().empty());
  count_minute(f, service, 6);
  EXPECT_EQ(add_up(sink.records()).total, 15u);
  EXPECT_EQ(f.logs_containing("threw"), 2u);
}

}  // namespace
}  // namespace crosscut::testing
