// Makes a record's strings safe to leave the process: invalid UTF-8 repaired, personal data
// masked. Borrowed strings that need neither are passed through without a copy.
#pragma once

#include <string>
#include <string_view>

#include "crosscut/sdk/value.hpp"
#include "logging/pii_masker.hpp"

namespace crosscut::logging {

// Stateless apart from the masker it borrows; usable from any thread.
class RecordScrubber {
 public:
  explicit RecordScrubber(const PiiMasker& masker) : masker_(masker) {}

  // A string value: `s` itself, or `scratch` holding the repaired and masked copy.
  std::string_view text(std::string_view s, std::string& scratch) const;
  // A key or a name: repaired, never masked.
  std::string_view key(std::string_view s, std::string& scratch) const;
  // A nested value: `v` itself, or `scratch` holding the repaired and masked copy.
  const sdk::Value& value(const sdk::Value& v, sdk::Value& scratch) const;
  bool sensitive(std::string_view key) const noexcept { return masker_.is_sensitive_key(key); }
  // Repairs and masks in place (owned data).
  void scrub(std::string& s) const;
  void scrub(sdk::Value& v) const;

 private:
  bool needs_work(const sdk::Value& v) const;

  const PiiMasker& masker_;
};

// Replaces invalid UTF-8 in every string of `v`, keys included.
void sanitize_value(sdk::Value& v);

}  // namespace crosscut::logging
