#include <gtest/gtest.h>

#include <random>
#include <string>

#include "core/utf8_sanitize.hpp"
#include "engine_fixture.hpp"
#include "logging/json_line.hpp"

namespace crosscut::testing {
namespace {

const char* const kFieldOrder[] = {"timestamp", "level", "logger", "category", "message", "extra"};

void expect_record_shape(const std::string& line) {
  rapidjson::Document doc;
  ASSERT_TRUE(parse_json_line(line, doc)) << "not JSON: " << line.substr(0, 200);
  ASSERT_TRUE(doc.IsObject());
  ASSERT_EQ(doc.MemberCount(), 6u) << line.substr(0, 200);
  int i = 0;
  const rapidjson::Value& object = doc;  // const iterators: unambiguous comparisons in C++20
  for (auto it = object.MemberBegin(); it != object.MemberEnd(); ++it, ++i)
    EXPECT_STREQ(it->name.GetString(), kFieldOrder[i]);
  EXPECT_TRUE(doc["extra"].IsObject());
  EXPECT_EQ(line.find('\n'), std::string::npos);
}

std::string random_bytes(std::mt19937& rng, std::size_t n) {
  static const std::string pieces[] = {"\"",
                                       "\\",
                                       "\n",
                                       "\r",
                                       "\t",
                                       std::string(1, '\0'),
                                       "\x01",
                                       "\x1f",
                                       "\x7f",
                                       "\xff",
                                       "\xc3",
                                       "\xe2\x82",
                                       "\xed\xa0\x80",
                                       "\xf4\x90\x80\x80",
                                       "\xc0\xaf",
                                       "한국어",
                                       "😀",
                                       "a",
                                       "{",
                                       "}"};
  std::string s;
  std::uniform_int_distribution<int> kind(0, 2);
  std::uniform_int_distribution<std::size_t> piece(0, std::size(pieces) - 1);
  std::uniform_int_distribution<int> byte(0, 255);
  while (s.size() < n) {
    if (kind(rng) == 0)
      s += static_cast<char>(byte(rng));
    else
      s += pieces[piece(rng)];
  }
  return s;
}

TEST(JsonLine, FieldsInContractOrderWithOffsetTimestamp) {
  logging::JsonLineFormatter f(std::chrono::minutes(9 * 60));
  // 2025-01-13T05:30:00.123456Z is 14:30:00.123456 at +09:00.
  const auto t = std::chrono::system_clock::time_point(std::chrono::microseconds(1736746200123456));
  sdk::Value extra =
      sdk::Value::object({{"exchange", "upbit"}, {"symbols", sdk::Value::array({"BTC", "ETH"})}});
  const std::string line(
      f.format(t, sdk::Level::info, "orchestrator", "app", "connection created", &extra));
  EXPECT_EQ(
      line,
      R"({"timestamp":"2025-01-13T14:30:00.123456+09:00","level":"INFO","logger":"orchestrator",)"
      R"("category":"app","message":"connection created","extra":{"exchange":"upbit","symbols":["BTC","ETH"]}})");
}

TEST(JsonLine, NonFiniteNumbersStayValidJson) {
  logging::JsonLineFormatter f(std::chrono::minutes(0));
  sdk::Value extra = sdk::Value::object({{"nan", std::nan("")}, {"inf", 1.0 / 0.0}, {"x", 1.5}});
  const std::string line(f.format({}, sdk::Level::error, "l", "c", "m", &extra));
  expect_record_shape(line);
  rapidjson::Document doc;
  ASSERT_TRUE(parse_json_line(line, doc));
  EXPECT_STREQ(doc["extra"]["nan"].GetString(), "NaN");
  EXPECT_STREQ(doc["extra"]["inf"].GetString(), "Infinity");
  EXPECT_DOUBLE_EQ(doc["extra"]["x"].GetDouble(), 1.5);
  EXPECT_STREQ(doc["level"].GetString(), "ERROR");
}

// Property: whatever bytes a message, a field key, a field value or a logger name holds,
// every record is one line of valid JSON with the contract's field order, and valid UTF-8
// input comes out unchanged.
TEST(JsonLine, EveryRecordIsValidJsonWhateverTheBytes) {
  EngineUnderTest t;
  std::mt19937 rng(20250113);
  std::vector<std::string> messages;
  std::uniform_int_distribution<std::size_t> len(0, 200);
  for (int i = 0; i < 400; ++i) messages.push_back(random_bytes(rng, len(rng)));
  messages.push_back(random_bytes(rng, 100 * 1024));
  messages.push_back("한국어 메시지 😀 \"quoted\" \\ back\nslash");
  std::string big_valid(100 * 1024, 'x');
  messages.push_back(big_valid);
  auto weird_logger = t.engine->logger(std::string("lo\"g\xff\n", 6), "c\x01t");
  for (const auto& m : messages) {
    const std::string key = m.substr(0, 10);
    weird_logger.info(m,
                      {{key, m}, {"n", 1}, {"nested", sdk::Value::object({{m.substr(0, 5), m}})}});
  }
  const auto records = t.drain();
  ASSERT_EQ(records.size(), messages.size());
  for (std::size_t i = 0; i < records.size(); ++i) {
    expect_record_shape(records[i].json);
    rapidjson::Document doc;
    ASSERT_TRUE(parse_json_line(records[i].json, doc));
    std::string expected;
    core::append_sanitized_utf8(expected, messages[i]);
    EXPECT_EQ(std::string(doc["message"].GetString(), doc["message"].GetStringLength()), expected);
    if (core::is_valid_utf8(messages[i])) {
      EXPECT_EQ(std::string(doc["message"].GetString(), doc["message"].GetStringLength()),
                messages[i]);
    }
    EXPECT_EQ(doc["extra"]["n"].GetInt(), 1);
  }
}

TEST(JsonLine, TypedFieldsKeepTheirTypes) {
  EngineUnderTest t;
  auto log = t.engine->logger("orchestrator", "app");
  const sdk::Value symbols = sdk::Value::array({"BTC", "ETH"});
  const sdk::Value nested =
      sdk::Value::object({{"a", 1}, {"b", sdk::Value::object({{"c", true}})}});
  log.info("typed", {{"s", "text"},
                     {"i", std::int64_t{-12345678901}},
                     {"u", 7u},
                     {"d", 0.25},
                     {"b", false},
                     {"null", nullptr},
                     {"arr", symbols},
                     {"obj", nested}});
  const auto records = t.drain();
  ASSERT_EQ(records.size(), 1u);
  rapidjson::Document doc;
  ASSERT_TRUE(parse_json_line(records[0].json, doc));
  const auto& e = doc["extra"];
  EXPECT_STREQ(e["s"].GetString(), "text");
  EXPECT_EQ(e["i"].GetInt64(), -12345678901);
  EXPECT_EQ(e["u"].GetInt(), 7);
  EXPECT_DOUBLE_EQ(e["d"].GetDouble(), 0.25);
  EXPECT_FALSE(e["b"].GetBool());
  EXPECT_TRUE(e["null"].IsNull());
  ASSERT_TRUE(e["arr"].IsArray());
  EXPECT_STREQ(e["arr"][1].GetString(), "ETH");
  EXPECT_TRUE(e["obj"]["b"]["c"].GetBool());
  // The structured parts given to sinks match the line.
  EXPECT_EQ(records[0].logger, "orchestrator");
  EXPECT_EQ(records[0].category, "app");
  ASSERT_TRUE(records[0].extra.is_object());
  EXPECT_EQ(records[0].extra.as_object().size(), 8u);
}

}  // namespace
}  // namespace crosscut::testing
