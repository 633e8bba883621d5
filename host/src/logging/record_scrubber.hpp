// Makes a record's strings safe to leave the process: invalid UTF-8 repaired, personal data
// masked.
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

  // Repairs and masks in place (owned data).
  void scrub(std::string& s) const;
  void scrub(sdk::Value& v) const;

 private:
  const PiiMasker& masker_;
};

// Replaces invalid UTF-8 in every string of `v`, keys included.
void sanitize_value(sdk::Value& v);

}  // namespace crosscut::logging
