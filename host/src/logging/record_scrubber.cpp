#include "logging/record_scrubber.hpp"

#include "core/utf8_sanitize.hpp"

namespace crosscut::logging {

using core::append_sanitized_utf8;
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

std::string_view RecordScrubber::text(std::string_view s, std::string& scratch) const {
  const bool valid = is_valid_utf8(s);
  if (valid && !(masker_.enabled() && masker_.matches(s))) return s;
  scratch.clear();
  if (valid)
    scratch.assign(s);
  else
    append_sanitized_utf8(scratch, s);
  if (masker_.enabled()) masker_.mask(scratch);
  return scratch;
}

std::string_view RecordScrubber::key(std::string_view s, std::string& scratch) const {
  if (is_valid_utf8(s)) return s;
  scratch.clear();
  append_sanitized_utf8(scratch, s);
  return scratch;
}

bool RecordScrubber::needs_work(const sdk::Value& v) const {
  if (v.is_string())
    return !is_valid_utf8(v.as_string()) || (masker_.enabled() && masker_.matches(v.as_string()));
  if (v.is_array()) {
    for (const auto& item : v.as_array())
      if (needs_work(item)) return true;
  } else if (v.is_object()) {
    for (const auto& [k, item] : v.as_object())
      if (!is_valid_utf8(k) || sensitive(k) || needs_work(item)) return true;
  }
  return false;
}

const sdk::Value& RecordScrubber::value(const sdk::Value& v, sdk::Value& scratch) const {
  if (!needs_work(v)) return v;
  scratch = v;
  scrub(scratch);
  return scratch;
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
