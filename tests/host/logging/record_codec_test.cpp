#include "logging/record_codec.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace crosscut::logging {
namespace {

std::vector<std::byte> encode(std::string_view message, sdk::Fields fields,
                              const sdk::Value* exception, const sdk::Value::Object* context) {
  std::vector<std::byte> out(payload_size(message, fields, exception, context) + 16,
                             std::byte{0x5a});
  write_payload(out.data(), message, fields, exception, context);
  out.resize(out.size() - 16);
  return out;
}

TEST(RecordCodec, RoundTripKeepsOrderAndSkipsShadowedContext) {
  const sdk::Value nested = sdk::Value::object({{"a", sdk::Value::array({1, "two", nullptr})}});
  const sdk::Value exception = sdk::Value::object({{"type", "E"}, {"message", "m"}});
  const sdk::Value::Object context{
      {"correlation_id", "c-1"}, {"exchange", "ctx"}, {"suppressed", 1}};
  const auto payload =
      encode("msg", {{"exchange", "upbit"}, {"n", 7}, {"d", 0.5}, {"b", true}, {"nested", nested}},
             &exception, &context);
  std::string_view message;
  ASSERT_TRUE(payload_message(payload, message));
  EXPECT_EQ(message, "msg");
  DecodedRecord d;
  ASSERT_TRUE(decode_payload(payload, 3, d));
  EXPECT_EQ(d.message, "msg");
  std::vector<std::string> keys;
  for (const auto& [k, v] : d.extra.as_object()) keys.push_back(k);
  EXPECT_EQ(keys, (std::vector<std::string>{"exchange", "n", "d", "b", "nested", "exception",
                                            "suppressed", "correlation_id"}));
  EXPECT_EQ(d.extra.find("exchange")->as_string(), "upbit");
  EXPECT_EQ(*d.extra.find("nested"), nested);
  EXPECT_EQ(*d.extra.find("exception"), exception);
  EXPECT_EQ(d.extra.find("suppressed")->as_int(), 3);
  // Without a suppressed count, the context's own "suppressed" field is kept.
  ASSERT_TRUE(decode_payload(payload, 0, d));
  EXPECT_EQ(d.extra.find("suppressed")->as_int(), 1);
}

TEST(RecordCodec, WritesExactlyTheSizeItAnnounces) {
  const sdk::Value v = sdk::Value::array({1.5, "x", sdk::Value::object({{"k", false}})});
  const std::size_t n =
      payload_size("m", {{"a", nullptr}, {"v", v}, {"s", "str"}}, nullptr, nullptr);
  std::vector<std::byte> out(n + 8, std::byte{0x5a});
  write_payload(out.data(), "m", {{"a", nullptr}, {"v", v}, {"s", "str"}}, nullptr, nullptr);
  for (std::size_t i = n; i < out.size(); ++i) EXPECT_EQ(out[i], std::byte{0x5a}) << i;
  DecodedRecord d;
  ASSERT_TRUE(decode_payload(std::span(out.data(), n), 0, d));
  EXPECT_EQ(*d.extra.find("v"), v);
  EXPECT_TRUE(d.extra.find("a")->is_null());
}

TEST(RecordCodec, TruncatedOrCorruptPayloadsAreRefused) {
  const auto payload = encode("message", {{"k", "v"}}, nullptr, nullptr);
  DecodedRecord d;
  for (std::size_t n = 0; n < payload.size(); ++n)
    EXPECT_FALSE(decode_payload(std::span(payload.data(), n), 0, d)) << n;
  auto longer = payload;
  longer.push_back(std::byte{0});
  EXPECT_FALSE(decode_payload(longer, 0, d));
  auto bad_tag = payload;
  bad_tag[4 + 7 + 4 + 4 + 1] = std::byte{99};  // the tag of field "k"
  EXPECT_FALSE(decode_payload(bad_tag, 0, d));
}

}  // namespace
}  // namespace crosscut::logging
