// Renders a log record as one JSON line with the field order of DESIGN §6.1:
// timestamp, level, logger, category, message, extra.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "crosscut/sdk/log.hpp"
#include "crosscut/sdk/value.hpp"
#include "logging/record_scrubber.hpp"

namespace crosscut::logging {

// Every string must already be valid UTF-8 (see utf8_sanitize.hpp); RapidJSON escapes
// quotes, backslashes and control characters. Not thread-safe: one per writing thread.
class JsonLineFormatter {
 public:
  explicit JsonLineFormatter(std::chrono::minutes utc_offset);

  // The rendered line (no newline), valid until the next call.
  std::string_view format(std::chrono::system_clock::time_point timestamp, sdk::Level level,
                          std::string_view logger, std::string_view category,
                          std::string_view message, const sdk::Value* extra);

  // Renders a log call straight from its parts, repairing and masking strings on the way,
  // with `extra` in the order of record_codec.hpp: call fields, exception, suppressed, then
  // the context fields whose keys are not taken. Names and message need not be valid UTF-8.
  std::string_view format_call(std::chrono::system_clock::time_point timestamp, sdk::Level level,
                               std::string_view logger, std::string_view category,
                               std::string_view message, sdk::Fields fields,
                               const sdk::Value* exception, std::uint64_t suppressed,
                               const sdk::Value::Object* context, const RecordScrubber& scrubber);

  // "2025-01-13T14:30:00.123456+09:00" (microseconds, the configured offset).
  std::string_view timestamp(std::chrono::system_clock::time_point t);

 private:
  std::chrono::minutes offset_;
  char offset_text_[8] = {};
  std::int64_t cached_second_ = INT64_MIN;
  char ts_[40] = {};  // "YYYY-MM-DDTHH:MM:SS" cached for cached_second_, then ".ffffff+hh:mm"
  rapidjson::StringBuffer buffer_;
  rapidjson::Writer<rapidjson::StringBuffer> writer_;  // kept: its level stack is reused
};

// A non-finite double as JSON cannot hold it: "NaN", "Infinity", "-Infinity".
std::string_view non_finite_name(double d) noexcept;

}  // namespace crosscut::logging
