#include "core/utf8_sanitize.hpp"

#include <cstdint>

namespace crosscut::core {
namespace {

// Length of the well-formed sequence starting at s[i], or 0 when it is invalid
// (Unicode Table 3-7, "well-formed UTF-8 byte sequences").
std::size_t valid_sequence_length(std::string_view s, std::size_t i) noexcept {
  auto b = [&](std::size_t k) { return static_cast<std::uint8_t>(s[k]); };
  const std::size_t left = s.size() - i;
  const std::uint8_t c = b(i);
  if (c < 0x80) return 1;
  auto cont = [&](std::size_t k, std::uint8_t lo = 0x80, std::uint8_t hi = 0xBF) {
    return b(k) >= lo && b(k) <= hi;
  };
  if (c >= 0xC2 && c <= 0xDF) return left >= 2 && cont(i + 1) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    if (left < 3) return 0;
    std::uint8_t lo = c == 0xE0 ? 0xA0 : 0x80;
    std::uint8_t hi = c == 0xED ? 0x9F : 0xBF;
    return cont(i + 1, lo, hi) && cont(i + 2) ? 3 : 0;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (left < 4) return 0;
    std::uint8_t lo = c == 0xF0 ? 0x90 : 0x80;
    std::uint8_t hi = c == 0xF4 ? 0x8F : 0xBF;
    return cont(i + 1, lo, hi) && cont(i + 2) && cont(i + 3) ? 4 : 0;
  }
  return 0;
}

// How many bytes of an invalid sequence at s[i] form one "maximal subpart" (replaced by a
// single U+FFFD, as the Unicode standard recommends): the lead byte plus the continuation
// bytes that were still acceptable.
std::size_t invalid_subpart_length(std::string_view s, std::size_t i) noexcept {
  auto b = [&](std::size_t k) { return static_cast<std::uint8_t>(s[k]); };
  const std::uint8_t c = b(i);
  std::size_t need = 0;
  std::uint8_t lo = 0x80, hi = 0xBF;
  if (c >= 0xC2 && c <= 0xDF)
    need = 1;
  else if (c >= 0xE0 && c <= 0xEF) {
    need = 2;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    need = 3;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else {
    return 1;
  }
  std::size_t n = 1;
  for (std::size_t k = 0; k < need && i + n < s.size(); ++k) {
    const std::uint8_t x = b(i + n);
    if (x < lo || x > hi) break;
    ++n;
    lo = 0x80;
    hi = 0xBF;
  }
  return n;
}

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";

}  // namespace

bool is_valid_utf8(std::string_view s) noexcept {
  std::size_t i = 0;
  while (i < s.size()) {
    if (static_cast<std::uint8_t>(s[i]) < 0x80) {
      ++i;
      continue;
    }
    std::size_t n = valid_sequence_length(s, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

void append_sanitized_utf8(std::string& out, std::string_view s) {
  std::size_t i = 0;
  std::size_t run = 0;  // start of the current valid run
  while (i < s.size()) {
    if (static_cast<std::uint8_t>(s[i]) < 0x80) {
      ++i;
      continue;
    }
    std::size_t n = valid_sequence_length(s, i);
    if (n != 0) {
      i += n;
      continue;
    }
    out.append(s.substr(run, i - run));
    out.append(kReplacement);
    i += invalid_subpart_length(s, i);
    run = i;
  }
  out.append(s.substr(run));
}

void sanitize_utf8(std::string& s) {
  if (is_valid_utf8(s)) return;
  std::string out;
  out.reserve(s.size() + 8);
  append_sanitized_utf8(out, s);
  s.swap(out);
}

}  // namespace crosscut::core
