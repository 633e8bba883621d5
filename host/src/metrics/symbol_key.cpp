#include "metrics/symbol_key.hpp"

#include <cstdint>

namespace crosscut::metrics {

namespace {

// Length of the well-formed UTF-8 sequence starting at s[i], or 0 when it is not one
// (overlong forms, surrogates and code points above U+10FFFF are not well formed).
std::size_t utf8_sequence_length(std::string_view s, std::size_t i) {
  auto byte = [&](std::size_t k) { return static_cast<std::uint8_t>(s[k]); };
  auto continuation = [&](std::size_t k) { return k < s.size() && (byte(k) & 0xC0) == 0x80; };
  std::uint8_t b0 = byte(i);
  if (b0 < 0x80) return 1;
  if (b0 >= 0xC2 && b0 <= 0xDF) return continuation(i + 1) ? 2 : 0;
  if (b0 >= 0xE0 && b0 <= 0xEF) {
    if (!continuation(i + 1) || !continuation(i + 2)) return 0;
    std::uint8_t b1 = byte(i + 1);
    if (b0 == 0xE0 && b1 < 0xA0) return 0;   // overlong
    if (b0 == 0xED && b1 >= 0xA0) return 0;  // surrogate
    return 3;
  }
  if (b0 >= 0xF0 && b0 <= 0xF4) {
    if (!continuation(i + 1) || !continuation(i + 2) || !continuation(i + 3)) return 0;
    std::uint8_t b1 = byte(i + 1);
    if (b0 == 0xF0 && b1 < 0x90) return 0;   // overlong
    if (b0 == 0xF4 && b1 >= 0x90) return 0;  // above U+10FFFF
    return 4;
  }
  return 0;
}

}  // namespace

std::string sanitize_utf8(std::string_view text, bool upper, SymbolRepairs* repairs) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    std::size_t n = utf8_sequence_length(text, i);
    if (n == 0) {
      out += "\xEF\xBF\xBD";
      if (repairs) repairs->invalid_utf8 = true;
      ++i;
      continue;
    }
    if (n == 1 && upper && text[i] >= 'a' && text[i] <= 'z')
      out += static_cast<char>(text[i] - 'a' + 'A');
    else
      out.append(text.substr(i, n));
    i += n;
  }
  return out;
}

std::string key_for_symbol(std::string_view symbol, SymbolRepairs* repairs) {
  std::string key = sanitize_utf8(symbol, true, repairs);
  key += "_COUNT";
  return key;
}

}  // namespace crosscut::metrics
