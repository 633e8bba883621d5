// Rendering one record as one NDJSON line.
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <string>

#include "stdio_sink/ndjson_line.hpp"

namespace {

using crosscut::sdk::Record;
using crosscut::stdio_sink::append_ndjson_line;

Record record(std::string payload, std::string topic = "ws.error",
              std::string key = "upbit/korea/ticker") {
  Record r;
  r.topic = std::move(topic);
  r.key = std::move(key);
  r.payload = std::move(payload);
  return r;
}

// Renders, checks the line is one valid JSON object ending in '\n', and parses it.
rapidjson::Document render(const Record& r, bool expect_embedded) {
  std::string out;
  EXPECT_EQ(append_ndjson_line(r, out), expect_embedded);
  EXPECT_FALSE(out.empty());
  EXPECT_EQ(out.back(), '\n');
  EXPECT_EQ(out.find('\n'), out.size() - 1) << "exactly one line: " << out;
  rapidjson::Document d;
  d.Parse<rapidjson::kParseValidateEncodingFlag>(out.data(), out.size() - 1);
  EXPECT_FALSE(d.HasParseError()) << out;
  EXPECT_TRUE(d.IsObject()) << out;
  return d;
}

TEST(NdjsonLine, EmbedsAJsonPayloadAsAValue) {
  auto d =
      render(record(R"({"kind":"ws_connection","attempt":3,"ok":false,"tags":["a","b"]})"), true);
  ASSERT_TRUE(d.HasMember("topic") && d.HasMember("key") && d.HasMember("value"));
  EXPECT_STREQ(d["topic"].GetString(), "ws.error");
  EXPECT_STREQ(d["key"].GetString(), "upbit/korea/ticker");
  ASSERT_TRUE(d["value"].IsObject());
  EXPECT_STREQ(d["value"]["kind"].GetString(), "ws_connection");
  EXPECT_EQ(d["value"]["attempt"].GetInt(), 3);
  EXPECT_EQ(d["value"]["tags"].Size(), 2u);
}

TEST(NdjsonLine, FieldOrderIsTopicKeyValueAndOutputIsCompact) {
  std::string out;
  ASSERT_TRUE(append_ndjson_line(record("{\n  \"a\" : [1, 2]\n}\n", "t", "k"), out));
  EXPECT_EQ(out, "{\"topic\":\"t\",\"key\":\"k\",\"value\":{\"a\":[1,2]}}\n");
}

TEST(NdjsonLine, TheRecordIdIsTheFirstMemberWhenThereIsOne) {
  Record r = record("{\"a\":1}", "t", "k");
  r.id = "01J8Z3-record-7";
  std::string out;
  ASSERT_TRUE(append_ndjson_line(r, out));
  EXPECT_EQ(out,
            "{\"id\":\"01J8Z3-record-7\",\"topic\":\"t\",\"key\":\"k\",\"value\":{\"a\":1}}\n");
  // Escaped like the other strings; invalid UTF-8 replaced.
  r.id = "quote\" back\\ bad\xFF";
  auto d = render(r, true);
  ASSERT_TRUE(d.HasMember("id"));
  EXPECT_EQ(std::string(d["id"].GetString()), "quote\" back\\ bad\xEF\xBF\xBD");
  EXPECT_STREQ(d.MemberBegin()->name.GetString(), "id");
  // No id, no member.
  EXPECT_FALSE(render(record("1"), true).HasMember("id"));
}

TEST(NdjsonLine, NumbersAreKeptAsWritten) {
  std::string out;
  ASSERT_TRUE(append_ndjson_line(
      record("[1.10,123456789012345678901234567890,-0.0,1e-7,2E+3]", "t", "k"), out));
  EXPECT_NE(out.find("[1.10,123456789012345678901234567890,-0.0,1e-7,2E+3]"), std::string::npos)
      << out;
}

TEST(NdjsonLine, ScalarPayloadsAreEmbeddedToo) {
  EXPECT_EQ(render(record("42"), true)["value"].GetInt(), 42);
  EXPECT_TRUE(render(record("null"), true)["value"].IsNull());
  EXPECT_STREQ(render(record("\"text\""), true)["value"].GetString(), "text");
}

TEST(NdjsonLine, StringEscapesSurviveTheRoundTrip) {
  const std::string payload =
      R"({"m":"quote \" backslash \\ newline \n tab \t nul \u0000 snow \u2603"})";
  auto d = render(record(payload), true);
  const auto& m = d["value"]["m"];
  const std::string text(m.GetString(), m.GetStringLength());
  std::string expected = "quote \" backslash \\ newline \n tab \t nul ";
  expected += '\0';
  expected += " snow \xE2\x98\x83";
  EXPECT_EQ(text, expected);
}

TEST(NdjsonLine, InvalidPayloadBecomesAString) {
  for (const std::string& payload :
       {std::string("not json"), std::string(""), std::string("{\"a\":1} trailing"),
        std::string("{\"a\":1}{\"b\":2}"), std::string("{\"a\":"), std::string("[1,2,]"),
        std::string("{\"a\":1}\0garbage", 15), std::string("\"bad utf8 \xC3\x28\"")}) {
    SCOPED_TRACE(payload);
    auto d = render(record(payload), false);
    ASSERT_TRUE(d["value"].IsString());
    if (payload.find('\xC3') == std::string::npos) {
      EXPECT_EQ(std::string(d["value"].GetString(), d["value"].GetStringLength()), payload);
    }
  }
}

TEST(NdjsonLine, InvalidUtf8BecomesReplacementCharacters) {
  auto d = render(record("{}", "topic\xFF", "key\xC3\x28-\xE2\x82"), true);
  EXPECT_EQ(std::string(d["topic"].GetString()), "topic\xEF\xBF\xBD");
  EXPECT_EQ(std::string(d["key"].GetString()), "key\xEF\xBF\xBD(-\xEF\xBF\xBD\xEF\xBF\xBD");
  auto s = render(record("raw \xFF bytes"), false);
  EXPECT_EQ(std::string(s["value"].GetString()), "raw \xEF\xBF\xBD bytes");
}

TEST(NdjsonLine, DeepNestingDoesNotRecurse) {
  const int depth = 200'000;
  std::string deep(depth, '[');
  deep += std::string(depth, ']');
  std::string out;
  EXPECT_TRUE(append_ndjson_line(record(deep), out));
  EXPECT_EQ(out.size(),
            std::string(R"({"topic":"ws.error","key":"upbit/korea/ticker","value":})").size() +
                deep.size() + 1);
  std::string unclosed(depth, '[');
  std::string out2;
  EXPECT_FALSE(append_ndjson_line(record(unclosed), out2));
}

TEST(NdjsonLine, AppendsToWhatIsAlreadyThere) {
  std::string out;
  append_ndjson_line(record("1", "a", "k"), out);
  append_ndjson_line(record("2", "b", "k"), out);
  EXPECT_EQ(
      out,
      "{\"topic\":\"a\",\"key\":\"k\",\"value\":1}\n{\"topic\":\"b\",\"key\":\"k\",\"value\":2}\n");
}

}  // namespace
