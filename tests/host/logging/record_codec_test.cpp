#include "logging/record_codec.hpp"

#include <gtest/gtest.h>

#include "logging/pii_masker.hpp"
#include "logging/record_scrubber.hpp"

namespace crosscut::logging {
namespace {

TEST(RecordCodec, RoundTripKeepsOrderAndSkipsShadowedContext) {
  const sdk::Value nested = sdk::Value::object({{"a", sdk::Value::array({1, "two", nullptr})}});
  const sdk::Value exception = sdk::Value::object({{"type", "E"}, {"message", "m"}});
  const sdk::Value::Object context{{"correlation_id", "c-1"}, {"exchange", "ctx"}};
  std::string payload;
  const int marker = 0;
  encode_record(payload, {RecordKind::record, &marker, 123456789, sdk::Level::error, 0}, "msg",
                {{"exchange", "upbit"}, {"n", 7}, {"d", 0.5}, {"b", true}, {"nested", nested}},
                &exception, 3, &context, "{\"json\":1}");
  DecodedRecord d;
  ASSERT_TRUE(decode_record(payload, d));
  EXPECT_EQ(d.header.logger, &marker);
  EXPECT_EQ(d.header.timestamp_ns, 123456789);
  EXPECT_EQ(d.header.level, sdk::Level::error);
  EXPECT_EQ(d.message, "msg");
  EXPECT_EQ(d.json, "{\"json\":1}");
  std::vector<std::string> keys;
  for (const auto& [k, v] : d.extra.as_object()) keys.push_back(k);
  EXPECT_EQ(keys, (std::vector<std::string>{"exchange", "n", "d", "b", "nested", "exception",
                                            "suppressed", "correlation_id"}));
  EXPECT_EQ(d.extra.find("exchange")->as_string(), "upbit");
  EXPECT_EQ(*d.extra.find("nested"), nested);
  EXPECT_EQ(d.extra.find("suppressed")->as_int(), 3);
}

TEST(RecordCodec, ScrubberMasksWhatIsStored) {
  PiiMasker masker{PiiOptions{}};
  RecordScrubber scrubber(masker);
  std::string payload;
  encode_record(payload, {}, "call 010-1234-5678", {{"api_key", "k"}, {"bad", "a\xff"}}, nullptr, 0,
                nullptr, {}, &scrubber);
  DecodedRecord d;
  ASSERT_TRUE(decode_record(payload, d));
  EXPECT_EQ(d.message, "call [MASKED:phone_kr]");
  EXPECT_EQ(d.extra.find("api_key")->as_string(), "[MASKED]");
  EXPECT_EQ(d.extra.find("bad")->as_string(), "a\xEF\xBF\xBD");
}

TEST(RecordCodec, TruncatedOrCorruptPayloadsAreRefused) {
  std::string payload;
  encode_record(payload, {}, "message", {{"k", "v"}}, nullptr, 0, nullptr, "{}");
  DecodedRecord d;
  for (std::size_t n = 0; n < payload.size(); ++n)
    EXPECT_FALSE(decode_record(std::string_view(payload).substr(0, n), d)) << n;
  std::string longer = payload + "x";
  EXPECT_FALSE(decode_record(longer, d));
  std::string bad_kind = payload;
  bad_kind[0] = 9;
  EXPECT_FALSE(decode_record(bad_kind, d));
}

}  // namespace
}  // namespace crosscut::logging
