// Renders a log record as one JSON line with the field order documented in docs/:
// timestamp, level, logger, category, message, extra.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "core/timestamp.hpp"
#include "crosscut/sdk/log.hpp"
#include "crosscut/sdk/value.hpp"

namespace crosscut::logging {

// Every string must already be valid UTF-8 (see core/utf8_sanitize.hpp); RapidJSON escapes
// quotes, backslashes and control characters. Not thread-safe: one per writing thread.
class JsonLineFormatter {
 public:
  explicit JsonLineFormatter(std::chrono::minutes utc_offset);
  void set_utc_offset(std::chrono::minutes utc_offset) {
    timestamps_ = core::TimestampFormatter(utc_offset);
  }

  // The rendered line (no newline), valid until the next call.
  std::string_view format(std::chrono::system_clock::time_point timestamp, sdk::Level level,
                          std::string_view logger, std::string_view category,
                          std::string_view message, const sdk::Value* extra);

 private:
  using Writer = rapidjson::Writer<rapidjson::StringBuffer>;
  // Clears the buffer and writes `{"timestamp":…,"level":…`.
  Writer& start_line(std::chrono::system_clock::time_point timestamp, sdk::Level level);

  core::TimestampFormatter timestamps_;
  rapidjson::StringBuffer buffer_;
  Writer writer_;  // kept: its level stack is reused
};

}  // namespace crosscut::logging
