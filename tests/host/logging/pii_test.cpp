#include <gtest/gtest.h>

#include <random>
#include <stdexcept>

#include "crosscut/log_context.hpp"
#include "engine_fixture.hpp"
#include "logging/pii_masker.hpp"

namespace crosscut::testing {
namespace {

using logging::PiiMasker;
using logging::PiiOptions;

std::string masked(const PiiMasker& m, std::string s) {
  m.mask(s);
  return s;
}

TEST(PiiMasker, KoreanPhoneNumbers) {
  PiiMasker m{PiiOptions{}};
  for (std::string phone : {"010-1234-5678", "01012345678", "010.1234.5678", "010 1234 5678",
                            "011-123-4567", "+82 10-1234-5678", "+821012345678"}) {
    const std::string out = masked(m, "call " + phone + " now");
    EXPECT_EQ(out, "call [MASKED:phone_kr] now") << phone;
  }
  // Not a phone: too long a digit run (an order id) stays.
  EXPECT_EQ(masked(m, "order 0101234567890123"), "order 0101234567890123");
}

TEST(PiiMasker, Emails) {
  PiiMasker m{PiiOptions{}};
  EXPECT_EQ(masked(m, "from a.b+c@example.co.kr."), "from [MASKED:email].");
  EXPECT_EQ(masked(m, "x@y"), "x@y");
}

TEST(PiiMasker, CardNumbersOnlyWhenLuhnValid) {
  PiiMasker m{PiiOptions{}};
  EXPECT_TRUE(logging::luhn_valid("4111 1111 1111 1111"));
  EXPECT_FALSE(logging::luhn_valid("4111 1111 1111 1112"));
  EXPECT_EQ(masked(m, "card 4111-1111-1111-1111 ok"), "card [MASKED:card] ok");
  EXPECT_EQ(masked(m, "card 4111 1111 1111 1111"), "card [MASKED:card]");
  EXPECT_EQ(masked(m, "card 5500000000000004"), "card [MASKED:card]");
  // An order id that fails the Luhn check is kept.
  EXPECT_EQ(masked(m, "order 4111111111111112"), "order 4111111111111112");
}

TEST(PiiMasker, BearerTokensAndCustomPatterns) {
  PiiOptions o;
  o.custom = {"acct-[0-9]{6}"};
  PiiMasker m{o};
  EXPECT_EQ(masked(m, "Authorization: Bearer eyJhbGciOi.J9.abc-_=="),
            "Authorization: [MASKED:bearer_token]");
  EXPECT_EQ(masked(m, "user acct-123456 logged"), "user [MASKED:custom] logged");
}

TEST(PiiMasker, SensitiveKeysAtAnyDepth) {
  PiiOptions o;
  o.keys = {"api_key", "Password"};
  PiiMasker m{o};
  sdk::Value v = sdk::Value::object(
      {{"API_KEY", "k-123"},
       {"inner", sdk::Value::object({{"password", 42}, {"note", "mail me: a@b.io"}})},
       {"list", sdk::Value::array({"010-1234-5678", 5})}});
  m.mask(v);
  EXPECT_EQ(v.find("API_KEY")->as_string(), "[MASKED]");
  EXPECT_EQ(v.find("inner")->find("password")->as_string(), "[MASKED]");
  EXPECT_EQ(v.find("inner")->find("note")->as_string(), "mail me: [MASKED:email]");
  EXPECT_EQ(v.find("list")->as_array()[0].as_string(), "[MASKED:phone_kr]");
  EXPECT_EQ(v.find("list")->as_array()[1].as_int(), 5);
}

TEST(PiiMasker, DisabledMasksNothing) {
  PiiOptions o;
  o.enabled = false;
  PiiMasker m{o};
  EXPECT_EQ(masked(m, "010-1234-5678 a@b.io"), "010-1234-5678 a@b.io");
  EXPECT_FALSE(m.is_sensitive_key("api_key"));
}

TEST(PiiMasker, InvalidCustomRegexNamesRe2Error) {
  PiiOptions o;
  o.custom = {"(unclosed"};
  try {
    PiiMasker m{o};
    FAIL() << "expected an error";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("missing )"), std::string::npos) << e.what();
  }
}

TEST(PiiMasker, HugeHostileMessageIsLinearAndComplete) {
  PiiOptions o;
  o.custom = {"(a+)+$"};  // catastrophic for a backtracking engine, linear in RE2
  PiiMasker m{o};
  std::string s;
  while (s.size() < 100 * 1024)
    s += "010-1234-5678 a@b.io 4111111111111111 aaaaaaaaaaaaaaaaaaaaaaaaab ";
  m.mask(s);
  EXPECT_EQ(s.find("010-1234-5678"), std::string::npos);
  EXPECT_EQ(s.find("a@b.io"), std::string::npos);
  EXPECT_EQ(s.find("4111111111111111"), std::string::npos);
}

TEST(PiiEndToEnd, PiiNeverAppearsInOutput) {
  auto options = EngineUnderTest::quiet_options();
  options.pii = PiiOptions{};
  options.pii.custom = {"SECRET-[A-Z]+"};
  EngineUnderTest t(options);
  auto log = t.engine->logger("payments");
  const std::vector<std::string> pii = {"010-9876-5432", "kim@example.com", "4111111111111111",
                                        "Bearer abc.def.ghi", "SECRET-ALPHA"};
  const sdk::Value nested =
      sdk::Value::object({{"contact", "kim@example.com"}, {"api_key", "sk-live-123"}});
  {
    ContextScope scope(sdk::Value::Object{{"customer_phone", "010-9876-5432"}});
    for (const auto& p : pii)
      log.info("user " + p + " paid",
               {{"detail", "reach " + p}, {"nested", nested}, {"api_key", "sk-live-123"}});
    log.error("failed", std::runtime_error("card 4111111111111111 declined"));
  }
  const auto records = t.drain();
  ASSERT_EQ(records.size(), pii.size() + 1);
  for (const auto& r : records) {
    for (const auto& p : pii) EXPECT_EQ(r.json.find(p), std::string::npos) << r.json;
    EXPECT_EQ(r.json.find("sk-live-123"), std::string::npos) << r.json;
    EXPECT_EQ(r.message.find("010-9876-5432"), std::string::npos);
    EXPECT_NE(r.json.find("[MASKED"), std::string::npos);
  }
}

}  // namespace
}  // namespace crosscut::testing

namespace crosscut::testing {
namespace {

// The fast pre-check must never hide a match the patterns would find.
TEST(PiiMasker, PrecheckNeverHidesAMatch) {
  PiiMasker m{PiiOptions{}};
  for (std::string s : {"BEARER abc", "x bearer y", "Bearer\tabc", "+82 10 1234 5678", "a@b.cc"}) {
    std::string copy = s;
    EXPECT_TRUE(m.mask(copy)) << s;
  }
  std::string plain = "connection created for upbit";
  EXPECT_FALSE(m.mask(plain));
}

}  // namespace
}  // namespace crosscut::testing
