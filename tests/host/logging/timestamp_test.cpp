// The one timestamp format and UTC offset grammar shared by log lines and error reports.
#include "core/timestamp.hpp"

#include <gtest/gtest.h>

namespace crosscut::core {
namespace {

using namespace std::chrono;

TEST(Timestamp, UtcOffsets) {
  EXPECT_EQ(parse_utc_offset("+09:00"), minutes(540));
  EXPECT_EQ(parse_utc_offset("-05:30"), minutes(-330));
  EXPECT_EQ(parse_utc_offset("+0930"), minutes(570));
  EXPECT_EQ(parse_utc_offset("+09"), minutes(540));
  EXPECT_EQ(parse_utc_offset("+14:00"), minutes(840));
  EXPECT_EQ(parse_utc_offset("Z"), minutes(0));
  EXPECT_EQ(parse_utc_offset("UTC"), minutes(0));
  EXPECT_TRUE(parse_utc_offset("local").has_value());
  for (auto bad : {"", "9", "+9:00", "+09:60", "+14:01", "+15:00", "+19:00", "09:00", "+09-00",
                   "+09:0", "KST"})
    EXPECT_FALSE(parse_utc_offset(bad).has_value()) << bad;
}

TEST(Timestamp, FormatsAtTheOffset) {
  const auto t = system_clock::time_point(microseconds(1'736'778'600'000'001));  // 14:30:00Z
  EXPECT_EQ(format_timestamp(t, minutes(0)), "2025-01-13T14:30:00.000001+00:00");
  EXPECT_EQ(format_timestamp(t, hours(9)), "2025-01-13T23:30:00.000001+09:00");
  EXPECT_EQ(format_timestamp(t, -minutes(15 * 60 + 30)), "2025-01-12T23:00:00.000001-15:30");
  EXPECT_EQ(format_timestamp(system_clock::time_point{}, minutes(0)),
            "1970-01-01T00:00:00.000000+00:00");
}

TEST(Timestamp, NegativeOffsetAndDayRollover) {
  TimestampFormatter f(-minutes(5 * 60 + 30));
  const auto t = system_clock::time_point(microseconds(1736726400000001));  // 00:00:00.000001Z
  EXPECT_EQ(f.format(t), "2025-01-12T18:30:00.000001-05:30");
}

// The formatter keeps the text of the last second: moving within it, to the next second and
// back must each give the same text as a fresh formatter.
TEST(Timestamp, CachedSecondMatchesAFreshFormat) {
  TimestampFormatter f(hours(9));
  const auto base = system_clock::time_point(microseconds(1'736'778'599'999'998));
  for (long long step : {0LL, 1LL, 2LL, 3LL, 1'000'000LL, -2'000'003LL, 86'400'000'000LL}) {
    const auto t = base + microseconds(step);
    EXPECT_EQ(std::string(f.format(t)), format_timestamp(t, hours(9))) << step;
    EXPECT_EQ(std::string(f.format(t)), TimestampFormatter(hours(9)).format(t)) << step;
  }
  EXPECT_EQ(f.format(base + microseconds(2)), "2025-01-13T23:30:00.000000+09:00");
}

}  // namespace
}  // namespace crosscut::core
