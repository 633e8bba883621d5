// Making arbitrary bytes valid UTF-8 before they reach JSON: RapidJSON copies invalid
// sequences through unchanged, which would make the line unparsable.
#pragma once

#include <string>
#include <string_view>

namespace crosscut::core {

// True when `s` is well-formed UTF-8 (no overlongs, surrogates or code points > U+10FFFF).
bool is_valid_utf8(std::string_view s) noexcept;

// Appends `s` to `out` with every maximal invalid subsequence replaced by U+FFFD.
void append_sanitized_utf8(std::string& out, std::string_view s);

// Replaces `s` by its sanitized form; does nothing (and allocates nothing) when valid.
void sanitize_utf8(std::string& s);

}  // namespace crosscut::core
