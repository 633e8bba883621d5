// The batch message documented in docs/, field by field, and when minutes become due.
#include <gtest/gtest.h>

#include <thread>

#include "metrics/counter_state.hpp"
#include "metrics_test_support.hpp"

namespace crosscut::testing {
namespace {

using metrics::MetricsOptions;
using metrics::MetricsService;

constexpr std::int64_t kMinute = 1'737'619'200;  // the ManualClock's start, a minute boundary

MetricsOptions options() {
  MetricsOptions o;
  o.grace = std::chrono::seconds(2);
  o.horizon = std::chrono::minutes(10);
  return o;
}

TEST(MetricsBatchFormat, MatchesTheDocumentedExampleByteForByte) {
  MetricsFixture f;
  MetricsService service(options(), &f.sink, f.clock, f.bus, f.log, f.error_callback());
  std::vector<sdk::MetricsBatchPublished> events;
  auto sub = f.bus.on<sdk::MetricsBatchPublished>(
      [&](const sdk::MetricsBatchPublished& e) { events.push_back(e); });
  auto& counter = service.counter(upbit_ticker());
  f.clock.advance(std::chrono::seconds(20));
  for (int i = 0; i < 120; ++i) counter.increment(i % 2 ? "BTC" : "btc");
  for (int i = 0; i < 60; ++i) counter.increment("eth");
  f.clock.advance(std::chrono::seconds(43));  // 63 s: the minute ended 3 s ago > grace
  service.flush_due();

  auto records = f.sink.records();
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].topic, "ws.metrics");
  EXPECT_EQ(records[0].key, "korea/upbit/ticker");
  EXPECT_EQ(records[0].payload,
            R"({"region":"korea","exchange":"upbit","request_type":"ticker",)"
            R"("batch":{"range_start_ts_kst":1737619200,"range_end_ts_kst":1737619259,)"
            R"("bucket_size_sec":60,"items":[{"minute_start_ts_kst":1737619200,"total":180,)"
            R"("details":{"BTC_COUNT":120,"ETH_COUNT":60}}],"version":1}})");

  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].key, "korea/upbit/ticker");
  EXPECT_EQ(events[0].topic, "ws.metrics");
  EXPECT_EQ(events[0].items, 1u);
  EXPECT_EQ(events[0].total, 180u);
  EXPECT_EQ(events[0].range_start_ts, kMinute);
  EXPECT_EQ(events[0].range_end_ts, kMinute + 59);
}

TEST(MetricsBatchFormat, FieldNamesAndOrder) {
  MetricsFixture f;
  MetricsService service(options(), &f.sink, f.clock, f.bus, f.log, f.error_callback());
  service.counter(upbit_ticker()).increment("BTC");
  ASSERT_TRUE(service.shutdown(in_seconds(10)));
  auto records = f.sink.records();
  ASSERT_EQ(records.size(), 1u);
  rapidjson::Document d;
  d.Parse(records[0].payload.c_str());
  ASSERT_TRUE(d.IsObject());
  auto names = [](const rapidjson::Value& obj) {
    std::vector<std::string> out;
    for (const auto& m : obj.GetObject()) out.push_back(m.name.GetString());
    return out;
  };
  using V = std::vector<std::string>;
  EXPECT_EQ(names(d), (V{"region", "exchange", "request_type", "batch"}));
  EXPECT_EQ(names(d["batch"]),
            (V{"range_start_ts_kst", "range_end_ts_kst", "bucket_size_sec", "items", "version"}));
  ASSERT_EQ(d["batch"]["items"].Size(), 1u);
  const auto& item = d["batch"]["items"][0];
  EXPECT_EQ(names(item), (V{"minute_start_ts_kst", "total", "details"}));
  EXPECT_TRUE(item["minute_start_ts_kst"].IsInt64());
  EXPECT_TRUE(item["total"].IsUint64());
  EXPECT_TRUE(item["details"].IsObject());
  EXPECT_TRUE(d["batch"]["version"].IsInt());
}

TEST(MetricsBatchFormat, OneMessagePerCounterItemsSortedByMinute) {
  MetricsFixture f;
  MetricsService service(options(), &f.sink, f.clock, f.bus, f.log, f.error_callback());
  auto& ticker = service.counter(upbit_ticker());
  auto& trade = service.counter({"upbit", "korea", "trade"});
  EXPECT_EQ(&ticker, &service.counter(upbit_ticker()));
  const std::int64_t ms = f.clock.now_ms();
  // Minutes counted out of order, one increment without a symbol.
  ticker.increment("ETH", ms + 2 * 60'000 + 5);
  ticker.increment("BTC", ms);
  ticker.increment("BTC", ms + 60'000 + 59'999);
  ticker.increment();
  trade.increment("BTC", ms);
  f.clock.advance(std::chrono::minutes(4));
  service.flush_due();

  auto records = f.sink.records();
  ASSERT_EQ(records.size(), 2u);
  std::map<std::string, ParsedBatch> by_key;
  for (const auto& r : records) by_key[r.key] = parse_batch(r.payload);
  const ParsedBatch& b = by_key.at("korea/upbit/ticker");
  ASSERT_EQ(b.items.size(), 3u);
  EXPECT_EQ(b.items[0].minute, kMinute);
  EXPECT_EQ(b.items[0].total, 2u);  // BTC and the increment without a symbol
  EXPECT_EQ(b.items[0].details, (std::map<std::string, std::uint64_t>{{"BTC_COUNT", 1}}));
  EXPECT_EQ(b.items[1].minute, kMinute + 60);
  EXPECT_EQ(b.items[2].minute, kMinute + 120);
  EXPECT_EQ(b.items[2].details, (std::map<std::string, std::uint64_t>{{"ETH_COUNT", 1}}));
  EXPECT_EQ(b.range_start, kMinute);
  EXPECT_EQ(b.range_end, kMinute + 120 + 59);
  EXPECT_EQ(by_key.at("korea/upbit/trade").items.size(), 1u);

  // Nothing new: no message.
  f.clock.advance(std::chrono::minutes(2));
  service.flush_due();
  EXPECT_EQ(f.sink.records().size(), 2u);
}

TEST(MetricsBatchFormat, MinuteIsDueOnlyAfterGrace) {
  MetricsFixture f;
  MetricsService service(options(), &f.sink, f.clock, f.bus, f.log, f.error_callback());
  service.counter(upbit_ticker()).increment("BTC");
  f.clock.advance(std::chrono::seconds(62));  // ended exactly `grace` ago: not yet
  service.flush_due();
  EXPECT_TRUE(f.sink.records().empty());
  f.clock.advance(std::chrono::milliseconds(1));
  service.flush_due();
  EXPECT_EQ(f.sink.records().size(), 1u);
}

TEST(MetricsBatchFormat, LateIncrementsGoOutInALaterBatch) {
  MetricsFixture f;
  MetricsService service(options(), &f.sink, f.clock, f.bus, f.log, f.error_callback());
  auto& counter = service.counter(upbit_ticker());
  const std::int64_t ms = f.clock.now_ms();
  for (int i = 0; i < 5; ++i) counter.increment("BTC");
  f.clock.advance(std::chrono::seconds(70));
  service.flush_due();
  ASSERT_EQ(f.sink.records().size(), 1u);

  counter.increment("BTC", ms + 30'000);  // belongs to the minute already published
  counter.increment("ETH", ms + 59'000);
  service.flush_due();
  auto records = f.sink.records();
  ASSERT_EQ(records.size(), 2u);
  ParsedBatch late = parse_batch(records[1].payload);
  ASSERT_EQ(late.items.size(), 1u);
  EXPECT_EQ(late.items[0].minute, kMinute);
  EXPECT_EQ(late.items[0].total, 2u);
  EXPECT_EQ(late.items[0].details,
            (std::map<std::string, std::uint64_t>{{"BTC_COUNT", 1}, {"ETH_COUNT", 1}}));
  EXPECT_EQ(add_up(records).by_key.at("BTC_COUNT"), 6u);
}

TEST(MetricsBatchFormat, FarEventTimesAreFlushedAtOnceAndFreed) {
  MetricsFixture f;
  MetricsService service(options(), &f.sink, f.clock, f.bus, f.log, f.error_callback());
  auto& counter = service.counter(upbit_ticker());
  const std::int64_t ms = f.clock.now_ms();
  counter.increment("BTC", ms + 24LL * 3600 * 1000);  // a day ahead: beyond the horizon
  counter.increment("BTC", ms + 5 * 60'000);          // 5 minutes ahead: within it
  counter.increment("BTC", std::int64_t{-1});         // 1969-12-31T23:59:59.999
  counter.increment("BTC", std::numeric_limits<std::int64_t>::min());
  counter.increment("BTC", std::chrono::system_clock::time_point::max());
  service.flush_due();
  auto records = f.sink.records();
  ASSERT_EQ(records.size(), 1u);
  ParsedBatch b = parse_batch(records[0].payload);
  std::vector<std::int64_t> minutes;
  for (const auto& item : b.items) minutes.push_back(item.minute);
  const std::int64_t min_ms = std::numeric_limits<std::int64_t>::min();
  const std::int64_t min_s = min_ms / 1000 - 1;  // floor of a negative non-multiple
  const std::int64_t max_ns_s = std::numeric_limits<std::int64_t>::max() / 1'000'000'000;
  std::vector<std::int64_t> want = {min_s / 60 * 60 - 60, -60, kMinute + 24 * 3600,
                                    max_ns_s / 60 * 60};
  EXPECT_EQ(minutes, want);

  // The thread's slots: what is due is freed except the few it may still count into.
  auto& state = counter.state();
  for (int i = 0; i < 1000; ++i) counter.increment("ETH", ms - i * 60'000LL * 7);
  EXPECT_GE(state.held_slots(), 1000u);
  f.clock.advance(std::chrono::seconds(1));
  service.flush_due();
  // Left: the slots the thread may still count into, the current minute (i == 0) and the
  // minute 5 minutes ahead, neither of them due yet.
  EXPECT_LE(state.held_slots(), metrics::kActiveWays + 2);
}

TEST(MetricsBatchFormat, ClockShortcutSurvivesEvictionAndFlush) {
  // The thread's shortcut to the current minute's slot must not outlive the slot: an event
  // time four minutes ahead takes the same place among the active slots, shutdown frees the
  // current minute's slot, and counting by the clock goes on (ASan checks the memory).
  MetricsFixture f;
  MetricsService service(options(), &f.sink, f.clock, f.bus, f.log, f.error_callback());
  auto& counter = service.counter(upbit_ticker());
  counter.increment("BTC");
  counter.increment("BTC", f.clock.now_ms() + 4 * 60'000);
  ASSERT_TRUE(service.shutdown(in_seconds(10)));
  counter.increment("BTC");
  counter.increment();
  ASSERT_TRUE(service.shutdown(in_seconds(10)));
  PublishedTotals t = add_up(f.sink.records());
  EXPECT_EQ(t.total_by_minute[kMinute], 3u);
  EXPECT_EQ(t.total_by_minute[kMinute + 240], 1u);
  EXPECT_EQ(t.by_key["BTC_COUNT"], 3u);
}

TEST(MetricsBatchFormat, HandlersMayCallBackIntoTheService) {
  // The inline bus runs handlers on the flushing thread: they must not find the service
  // locked.
  MetricsFixture f;
  MetricsService service(options(), &f.sink, f.clock, f.bus, f.log, f.error_callback());
  std::vector<std::uint64_t> published_seen;
  auto sub = f.bus.on<sdk::MetricsBatchPublished>([&](const sdk::MetricsBatchPublished&) {
    published_seen.push_back(service.stats().published_batches);
  });
  service.counter(upbit_ticker()).increment("BTC");
  service.counter({"upbit", "korea", "trade"}).increment("BTC");
  f.clock.advance(std::chrono::seconds(70));
  service.flush_due();
  EXPECT_EQ(published_seen, (std::vector<std::uint64_t>{2, 2}));
}

TEST(MetricsBatchFormat, NoSinkPublishesNothingAndSaysSoOnce) {
  MetricsFixture f;
  MetricsService service(options(), nullptr, f.clock, f.bus, f.log, f.error_callback());
  EXPECT_EQ(f.logs_containing("not published"), 1u);
  auto& counter = service.counter(upbit_ticker());
  for (int i = 0; i < 7; ++i) counter.increment("BTC");
  f.clock.advance(std::chrono::seconds(70));
  service.flush_due();
  counter.increment("BTC");
  EXPECT_TRUE(service.shutdown(in_seconds(5)));
  EXPECT_EQ(service.stats().unpublished_increments, 8u);
  EXPECT_EQ(service.stats().published_batches, 0u);
  EXPECT_EQ(f.logs_containing("not published"), 1u);
}

}  // namespace
}  // namespace crosscut::testing
