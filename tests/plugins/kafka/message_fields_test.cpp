// Reading symbol and event time out of market-data messages.
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

#include "kafka/message_fields.hpp"

namespace {

using crosscut::kafka::MessageFields;

TEST(MessageFields, ReadsSymbolAndEpochMilliseconds) {
  MessageFields f("code", "timestamp", "");
  std::string reason;
  auto r =
      f.read(R"({"type":"ticker","code":"KRW-BTC","timestamp":1737619200123,"x":[1,{}]})", reason);
  ASSERT_TRUE(r) << reason;
  EXPECT_EQ(r->symbol, "KRW-BTC");
  EXPECT_EQ(r->time_ms, 1737619200123);
}

TEST(MessageFields, SymbolRegexTakesItsCaptureAndKeepsSymbolsItDoesNotMatch) {
  MessageFields f("code", "", "^KRW-(.*)$");
  std::string reason;
  auto r = f.read(R"({"code":"KRW-ETH"})", reason);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->symbol, "ETH");
  EXPECT_FALSE(r->time_ms) << "no time_field: counted on arrival";
  r = f.read(R"({"code":"BTC-XRP"})", reason);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->symbol, "BTC-XRP");
}

TEST(MessageFields, AcceptsTimesAsFloatOrDigitString) {
  MessageFields f("s", "t", "");
  std::string reason;
  EXPECT_EQ(f.read(R"({"s":"A","t":1737619200123.9})", reason)->time_ms, 1737619200123);
  EXPECT_EQ(f.read(R"({"s":"A","t":"1737619200123"})", reason)->time_ms, 1737619200123);
}

TEST(MessageFields, RefusesWhatCannotBeCountedWithAReason) {
  MessageFields f("code", "timestamp", "");
  const std::pair<std::string, std::string> cases[] = {
      {"not json", "not JSON"},
      {"", "not JSON"},
      {R"({"code":"A","timestamp":1} trailing)", "not JSON"},
      {"[1,2]", "not a JSON object"},
      {R"({"timestamp":1})", "no string field 'code'"},
      {R"({"code":5,"timestamp":1})", "no string field 'code'"},
      {R"({"code":"","timestamp":1})", "no string field 'code'"},
      {R"({"code":"A"})", "no epoch-milliseconds field 'timestamp'"},
      {R"({"code":"A","timestamp":"soon"})", "no epoch-milliseconds field 'timestamp'"},
      {R"({"code":"A","timestamp":1e300})", "no epoch-milliseconds field 'timestamp'"},
      {"{\"code\":\"\xff\",\"timestamp\":1}", "not JSON"},
  };
  for (const auto& [payload, expected] : cases) {
    std::string reason;
    EXPECT_FALSE(f.read(payload, reason)) << payload;
    EXPECT_NE(reason.find(expected), std::string::npos) << payload << " -> " << reason;
  }
}

TEST(MessageFields, DeepNestingDoesNotOverflowTheStack) {
  MessageFields f("code", "", "");
  std::string deep =
      R"({"code":"A","x":)" + std::string(200000, '[') + std::string(200000, ']') + "}";
  std::string reason;
  auto r = f.read(deep, reason);
  ASSERT_TRUE(r) << reason;
  EXPECT_EQ(r->symbol, "A");
}

TEST(MessageFields, RefusesPatternsWithoutExactlyOneCaptureGroup) {
  EXPECT_THROW(MessageFields("c", "", "^KRW-.*$"), std::invalid_argument);
  EXPECT_THROW(MessageFields("c", "", "^(KRW)-(.*)$"), std::invalid_argument);
  EXPECT_THROW(MessageFields("c", "", "(unclosed"), std::invalid_argument);
}

}  // namespace
