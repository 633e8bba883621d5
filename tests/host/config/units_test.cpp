#include <gtest/gtest.h>

#include "crosscut/sdk/units.hpp"

using namespace std::chrono_literals;
namespace sdk = crosscut::sdk;

TEST(Units, Durations) {
  EXPECT_EQ(sdk::parse_duration("250ms"), std::chrono::nanoseconds(250ms));
  EXPECT_EQ(sdk::parse_duration("60s"), std::chrono::nanoseconds(60s));
  EXPECT_EQ(sdk::parse_duration("5m"), std::chrono::nanoseconds(5min));
  EXPECT_EQ(sdk::parse_duration("2h"), std::chrono::nanoseconds(2h));
  EXPECT_EQ(sdk::parse_duration("1.5s"), std::chrono::nanoseconds(1500ms));
  EXPECT_EQ(sdk::parse_duration("10us"), std::chrono::nanoseconds(10us));
  std::string err;
  EXPECT_FALSE(sdk::parse_duration("60 parsecs", &err));
  EXPECT_NE(err.find("unknown duration unit 'parsecs'"), std::string::npos);
  EXPECT_FALSE(sdk::parse_duration("60", &err));
  EXPECT_NE(err.find("needs a unit"), std::string::npos);
  EXPECT_FALSE(sdk::parse_duration("-5s"));
  EXPECT_FALSE(sdk::parse_duration("s"));
  EXPECT_FALSE(sdk::parse_duration(""));
  EXPECT_FALSE(sdk::parse_duration("1e400s"));
  EXPECT_FALSE(sdk::parse_duration("99999999999999h", &err));
  EXPECT_NE(err.find("too large"), std::string::npos);
}

TEST(Units, Sizes) {
  EXPECT_EQ(sdk::parse_size("512"), 512u);
  EXPECT_EQ(sdk::parse_size("64KiB"), 64u * 1024);
  EXPECT_EQ(sdk::parse_size("10MiB"), 10u * 1024 * 1024);
  EXPECT_EQ(sdk::parse_size("1GiB"), 1024u * 1024 * 1024);
  EXPECT_EQ(sdk::parse_size("10MB"), 10'000'000u);
  EXPECT_EQ(sdk::parse_size("1.5KiB"), 1536u);
  std::string err;
  EXPECT_FALSE(sdk::parse_size("10MiBs", &err));
  EXPECT_NE(err.find("unknown size unit 'MiBs'"), std::string::npos);
  EXPECT_FALSE(sdk::parse_size("-1"));
  EXPECT_FALSE(sdk::parse_size("lots"));
}

TEST(Units, ScalarsOfOtherTypes) {
  EXPECT_EQ(sdk::parse_bool("true"), true);
  EXPECT_EQ(sdk::parse_bool("off"), false);
  EXPECT_FALSE(sdk::parse_bool("maybe"));
  EXPECT_EQ(sdk::parse_int("-42"), -42);
  EXPECT_EQ(sdk::parse_int("+7"), 7);
  EXPECT_FALSE(sdk::parse_int("4.2"));
  EXPECT_FALSE(sdk::parse_int("99999999999999999999"));
  EXPECT_EQ(sdk::parse_number("4.25"), 4.25);
  EXPECT_FALSE(sdk::parse_number("nan"));
}
