// Turning a symbol as it arrives into the detail key of a batch ("btc" -> "BTC_COUNT").
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace crosscut::metrics {

// Longer symbols are cut to this many bytes before anything else looks at them.
inline constexpr std::size_t kMaxSymbolBytes = 128;

// What key_for_symbol() had to repair.
struct SymbolRepairs {
  bool invalid_utf8 = false;
};

// Valid UTF-8 copy of `text`: every byte that does not begin a well-formed sequence (and
// every truncated sequence) becomes U+FFFD. ASCII letters are upper-cased when `upper`.
// Sets repairs->invalid_utf8 when something was replaced.
std::string sanitize_utf8(std::string_view text, bool upper, SymbolRepairs* repairs = nullptr);

// "<SYMBOL upper-cased>_COUNT" for an already truncated, non-empty symbol.
std::string key_for_symbol(std::string_view symbol, SymbolRepairs* repairs = nullptr);

}  // namespace crosscut::metrics
