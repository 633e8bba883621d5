#include "logging/record_scrubber.hpp"

#include "core/utf8_sanitize.hpp"

namespace crosscut::logging {

using core::is_valid_utf8;
using core::sanitize_utf8;

void sanitize_value(sdk::Value& v) {
  if (v.is_string()) {
    if (!is_valid_utf8(v.as_string())) {
      std::string s = v.as_string();
      sanitize_utf8(s);
      v = sdk::Value(std::move(s));
    }
  } else if (v.is_array()) {
    for (auto& item : v.as_array()) sanitize_value(item);
  } else if (v.is_object()) {
    for (auto& [k, item] : v.as_object()) {
      sanitize_utf8(k);
      sanitize_value(item);
    }
  }
}

void RecordScrubber::scrub(std::string& s) const {
  sanitize_utf8(s);
  if (masker_.enabled()) masker_.mask(s);
}

void RecordScrubber::scrub(sdk::Value& v) const {
  sanitize_value(v);
  if (masker_.enabled()) masker_.mask(v);
}

}  // namespace crosscut::logging
