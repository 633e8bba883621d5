// PII masking with RE2 (linear time, no recursion: safe on hostile 100 KB messages).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "crosscut/sdk/value.hpp"
#include "logging/log_options.hpp"

namespace re2 {
class RE2;
}

namespace crosscut::logging {

// Built-in pattern names accepted in `pii.patterns`.
const std::vector<std::string_view>& builtin_pii_patterns();

// Replaces personal data in strings: each match of a pattern becomes "[MASKED:<name>]"
// (custom patterns: "[MASKED:custom]"); card candidates are masked only when they pass the
// Luhn check, so order ids are kept. Values of fields named in `keys` become "[MASKED]".
// Immutable after construction; mask() may be called from any thread.
class PiiMasker {
 public:
  // Throws std::invalid_argument naming the pattern and RE2's error for a bad regex or an
  // unknown built-in name.
  explicit PiiMasker(const PiiOptions& options);
  ~PiiMasker();
  PiiMasker(const PiiMasker&) = delete;
  PiiMasker& operator=(const PiiMasker&) = delete;

  bool enabled() const noexcept { return enabled_; }

  // Masks `s` in place; returns true when something was replaced.
  bool mask(std::string& s) const;
  // Masks every string in `v` (nested too) and the values of sensitive keys.
  void mask(sdk::Value& v) const;
  bool is_sensitive_key(std::string_view key) const noexcept;
  // True when mask() would change `s`.
  bool matches(std::string_view s) const;

 private:
  struct Pattern {
    std::string name;
    std::unique_ptr<re2::RE2> re;
    bool luhn = false;
  };
  bool mask_with(const Pattern& p, std::string& s) const;

  // True when `s` may hold a match; false only when no pattern can match (built-ins need
  // 10+ digits, an '@' or "bearer"; with custom patterns, always true).
  bool may_match(std::string_view s) const noexcept;

  bool enabled_ = false;
  bool custom_ = false;
  std::vector<Pattern> patterns_;
  std::unique_ptr<re2::RE2> any_;  // all patterns as one alternation: the fast "nothing here"
  std::vector<std::string> keys_;  // lower-case
};

// Luhn checksum over the digits of `s` (other characters ignored).
bool luhn_valid(std::string_view s) noexcept;

}  // namespace crosscut::logging
