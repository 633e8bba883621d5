// Symbols as they come off the wire: empty, huge, not UTF-8, hostile in number.
#include <gtest/gtest.h>

#include "metrics/counter_state.hpp"
#include "metrics/symbol_key.hpp"
#include "metrics_test_support.hpp"

namespace crosscut::testing {
namespace {

using metrics::MetricsOptions;
using metrics::MetricsService;

TEST(MetricsBadInput, EmptySymbolCountsInTotalOnly) {
  MetricsFixture f;
  MetricsService service(MetricsOptions{}, &f.sink, f.clock, f.bus, f.log, f.error_callback());
  auto& c = service.counter(upbit_ticker());
  c.increment("");
  c.increment();
  c.increment("", f.clock.now_ms());
  c.increment("BTC");
  ASSERT_TRUE(service.shutdown(in_seconds(10)));
  PublishedTotals t = add_up(f.sink.records());
  EXPECT_EQ(t.total, 4u);
  EXPECT_EQ(t.by_key, (std::map<std::string, std::uint64_t>{{"BTC_COUNT", 1}}));
}

TEST(MetricsBadInput, HugeSymbolsAreTruncatedAndNotedOnce) {
  MetricsFixture f;
  MetricsService service(MetricsOptions{}, &f.sink, f.clock, f.bus, f.log, f.error_callback());
  auto& c = service.counter(upbit_ticker());
  std::string huge(10 * 1024, 'x');
  std::string other = huge;
  other.back() = 'y';  // differs after the cut: the same detail key
  c.increment(huge);
  c.increment(other);
  f.clock.advance(std::chrono::seconds(70));
  service.flush_due();
  c.increment(huge + "z");
  ASSERT_TRUE(service.shutdown(in_seconds(10)));
  PublishedTotals t = add_up(f.sink.records());
  std::string key = std::string(metrics::kMaxSymbolBytes, 'X') + "_COUNT";
  EXPECT_EQ(t.by_key, (std::map<std::string, std::uint64_t>{{key, 3}}));
  EXPECT_EQ(f.logs_containing("truncated"), 1u);
}

TEST(MetricsBadInput, InvalidUtf8IsRepairedAndJsonStaysValid) {
  MetricsFixture f;
  sdk::Target target{"up\xffit", "kor\"ea", "tick\ner"};
  MetricsService service(MetricsOptions{}, &f.sink, f.clock, f.bus, f.log, f.error_callback());
  auto& c = service.counter(target);
  c.increment(
      "\xff\xfe"
      "btc\xc3");                // stray bytes and a cut two-byte sequence
  c.increment("\xed\xa0\x80");   // an encoded surrogate
  c.increment("\xc0\xaf");       // an overlong '/'
  c.increment("a\"b\\c\n\x01");  // valid, but needs escaping
  c.increment("\xea\xb0\x80");   // valid Hangul, kept as is
  // A 3-byte character cut by the 128-byte limit.
  std::string cut(metrics::kMaxSymbolBytes - 1, 'k');
  cut += "\xea\xb0\x80";
  c.increment(cut);
  ASSERT_TRUE(service.shutdown(in_seconds(10)));
  PublishedTotals t = add_up(f.sink.records());  // parses with UTF-8 validation
  EXPECT_EQ(t.total, 6u);
  const std::string fffd = "\xEF\xBF\xBD";
  std::map<std::string, std::uint64_t> want = {
      {fffd + fffd + "BTC" + fffd + "_COUNT", 1},
      {fffd + fffd + fffd + "_COUNT", 1},
      {fffd + fffd + "_COUNT", 1},
      {"A\"B\\C\n\x01_COUNT", 1},
      {"\xea\xb0\x80_COUNT", 1},
      {std::string(metrics::kMaxSymbolBytes - 1, 'K') + fffd + "_COUNT", 1}};
  EXPECT_EQ(t.by_key, want);
  EXPECT_EQ(f.logs_containing("invalid UTF-8"), 1u);
  ParsedBatch b = parse_batch(f.sink.records().at(0).payload);
  EXPECT_EQ(b.region, "kor\"ea");
  EXPECT_EQ(b.exchange, "up" + fffd + "it");
  EXPECT_EQ(b.request_type, "tick\ner");
}

TEST(MetricsBadInput, SymbolLimitCountsTheRestInTotal) {
  MetricsFixture f;
  MetricsService service(MetricsOptions{}, &f.sink, f.clock, f.bus, f.log, f.error_callback());
  auto& c = service.counter(upbit_ticker());
  const std::size_t distinct = metrics::kMaxSymbols + 10;
  for (std::size_t i = 0; i < distinct; ++i) c.increment("S" + std::to_string(i));
  for (std::size_t i = 0; i < distinct; ++i) c.increment("S" + std::to_string(i));
  ASSERT_TRUE(service.shutdown(in_seconds(10)));
  PublishedTotals t = add_up(f.sink.records());
  EXPECT_EQ(t.total, 2 * distinct);
  EXPECT_EQ(t.by_key.size(), metrics::kMaxSymbols);
  std::uint64_t in_details = 0;
  for (const auto& [k, n] : t.by_key) {
    EXPECT_EQ(n, 2u) << k;
    in_details += n;
  }
  EXPECT_EQ(in_details, 2 * metrics::kMaxSymbols);
  EXPECT_EQ(f.logs_containing("symbol limit"), 1u);
}

TEST(MetricsBadInput, LookalikeSymbolsStayApart) {
  // Symbols of every length up to 40 bytes that differ in one byte only (at the start, in the
  // middle, at the end): each keeps its own count.
  MetricsFixture f;
  MetricsService service(MetricsOptions{}, &f.sink, f.clock, f.bus, f.log, f.error_callback());
  auto& c = service.counter(upbit_ticker());
  std::map<std::string, std::uint64_t> want;
  for (std::size_t len = 1; len <= 40; ++len)
    for (std::size_t pos : {std::size_t{0}, len / 2, len - 1}) {
      std::string s(len, 'A');
      s[pos] = 'B';
      for (int i = 0; i < 3; ++i) c.increment(s);
      want[s + "_COUNT"] += 3;  // short symbols repeat a position
    }
  ASSERT_TRUE(service.shutdown(in_seconds(10)));
  EXPECT_EQ(add_up(f.sink.records()).by_key, want);
}

TEST(MetricsSymbolKey, Sanitising) {
  using metrics::sanitize_utf8;
  EXPECT_EQ(metrics::key_for_symbol("krw-btc"), "KRW-BTC_COUNT");
  EXPECT_EQ(sanitize_utf8("abc", false), "abc");
  EXPECT_EQ(sanitize_utf8("abc\xc3\xa9", true), "ABC\xc3\xa9");  // only ASCII is upper-cased
  metrics::SymbolRepairs r;
  EXPECT_EQ(sanitize_utf8("\xf4\x90\x80\x80", false, &r),
            "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_TRUE(r.invalid_utf8);
  metrics::SymbolRepairs ok;
  EXPECT_EQ(sanitize_utf8("\xf0\x9f\x9a\x80", false, &ok), "\xf0\x9f\x9a\x80");
  EXPECT_FALSE(ok.invalid_utf8);
}

}  // namespace
}  // namespace crosscut::testing
