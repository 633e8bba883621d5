// The PII masker on arbitrary text. The first byte chooses the patterns (a subset of the
// built-ins, perhaps one custom expression); the rest is the string to mask. Besides not
// crashing: valid UTF-8 stays valid, the result grows by a bounded factor, mask() reports a
// change exactly when there was one and matches() predicts it, and (built-ins only) masking
// the result again finds nothing, i.e. no match survives.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include "core/utf8_sanitize.hpp"
#include "logging/pii_masker.hpp"

namespace {

using crosscut::logging::PiiMasker;
using crosscut::logging::PiiOptions;

// None of these can match inside a "[MASKED:…]" marker, so a replacement always changes the
// text. "x*" also matches the empty string.
constexpr std::array<const char*, 4> kCustom = {"acct-[0-9]{6}", "(a+)+$", "SECRET-[A-Z]+", "x*"};
constexpr std::array<const char*, 4> kBuiltins = {"phone_kr", "email", "card", "bearer_token"};

// The longest replacement ("[MASKED:bearer_token]", 21 bytes) of the shortest match (1 byte,
// for a custom pattern; built-in matches are longer).
constexpr std::size_t kMaxGrowth = 21;

const PiiMasker& masker_for(std::uint8_t selector) {
  // Bits 0-3: built-ins; bit 4: a custom pattern, bits 5-6: which one.
  static std::array<std::unique_ptr<PiiMasker>, 128> maskers;
  const std::size_t index = selector & 0x7F;
  if (!maskers[index]) {
    PiiOptions o;
    o.patterns.clear();
    for (std::size_t i = 0; i < kBuiltins.size(); ++i)
      if (index & (1u << i)) o.patterns.emplace_back(kBuiltins[i]);
    if (index & 0x10) o.custom = {kCustom[(index >> 5) & 3]};
    o.keys = {"api_key", "Password"};
    maskers[index] = std::make_unique<PiiMasker>(o);
  }
  return *maskers[index];
}

[[noreturn]] void finding(const char* what, std::string_view in, std::string_view out) {
  std::fprintf(stderr, "pii masker fuzz finding: %s\n  in:  '%.*s'\n  out: '%.*s'\n", what,
               static_cast<int>(in.size()), in.data(), static_cast<int>(out.size()), out.data());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::uint8_t selector = data[0];
  const PiiMasker& m = masker_for(selector);
  const std::string in(reinterpret_cast<const char*>(data) + 1, size - 1);
  std::string out = in;
  const bool changed = m.mask(out);

  if (changed != (out != in)) finding("mask() misreports whether it changed the text", in, out);
  if (m.matches(in) != changed) finding("matches() disagrees with mask()", in, out);
  if (out.size() > kMaxGrowth * in.size() + kMaxGrowth) finding("the text grew absurdly", in, out);
  if (crosscut::core::is_valid_utf8(in) && !crosscut::core::is_valid_utf8(out))
    finding("valid UTF-8 became invalid", in, out);
  if ((selector & 0x10) == 0) {
    std::string again = out;
    if (m.mask(again)) finding("masked text still holds a match", in, again);
  }
  // Sensitive keys compare without regard to ASCII case, and only whole names.
  const std::string_view key(in.data(), std::min<std::size_t>(in.size(), 16));
  const bool expect_sensitive = [&] {
    for (std::string_view k : {"api_key", "password"}) {
      if (key.size() != k.size()) continue;
      bool eq = true;
      for (std::size_t i = 0; i < k.size(); ++i) {
        char c = key[i];
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
        eq = eq && c == k[i];
      }
      if (eq) return true;
    }
    return false;
  }();
  if (m.is_sensitive_key(key) != expect_sensitive)
    finding("is_sensitive_key() is wrong", key, expect_sensitive ? "sensitive" : "not sensitive");
  return 0;
}
