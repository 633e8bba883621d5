#include "core/utf8_sanitize.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace crosscut::core {
namespace {

const std::string kFFFD = "\xEF\xBF\xBD";

std::string sanitized(std::string s) {
  sanitize_utf8(s);
  return s;
}

TEST(Utf8Sanitize, ValidTextIsUnchanged) {
  for (const std::string& s : std::vector<std::string>{"", "ascii", "한국어", "😀 emoji",
                                                       "\x7f control", std::string("nul\0in", 6)}) {
    EXPECT_TRUE(is_valid_utf8(s)) << s;
    EXPECT_EQ(sanitized(s), s);
  }
}

TEST(Utf8Sanitize, InvalidSequencesBecomeReplacementCharacters) {
  EXPECT_EQ(sanitized("a\xff"
                      "b"),
            "a" + kFFFD + "b");
  EXPECT_EQ(sanitized("\xc0\xaf"), kFFFD + kFFFD);                          // overlong '/'
  EXPECT_EQ(sanitized("\xed\xa0\x80"), kFFFD + kFFFD + kFFFD);              // surrogate half
  EXPECT_EQ(sanitized("\xf4\x90\x80\x80"), kFFFD + kFFFD + kFFFD + kFFFD);  // > U+10FFFF
  EXPECT_EQ(sanitized("\xe2\x82"), kFFFD);                                  // truncated euro sign
  EXPECT_EQ(sanitized("\xe2\x82x"), kFFFD + "x");
  EXPECT_EQ(sanitized("한\xff국"), "한" + kFFFD + "국");
  for (const char* s : {"\xff", "\xc3", "\xed\xa0\x80", "\xf0\x9f\x98"})
    EXPECT_FALSE(is_valid_utf8(s));
}

TEST(Utf8Sanitize, OutputIsAlwaysValid) {
  std::string all;
  for (int i = 0; i < 256; ++i)
    for (int j = 0; j < 256; j += 17) {
      all += static_cast<char>(i);
      all += static_cast<char>(j);
    }
  EXPECT_FALSE(is_valid_utf8(all));
  EXPECT_TRUE(is_valid_utf8(sanitized(all)));
}

}  // namespace
}  // namespace crosscut::core
