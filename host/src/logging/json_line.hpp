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
#include "logging/record_scrubber.hpp"

namespace crosscut::logging {

// Every string must already be valid UTF-8 (see core/utf8_sanitize.hpp); RapidJSON escapes
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

 private:
  using Writer = rapidjson::Writer<rapidjson::StringBuffer>;
  // Clears the buffer and writes `{"timestamp":…,"level":…`.
  Writer& start_line(std::chrono::system_clock::time_point timestamp, sdk::Level level);

  core::TimestampFormatter timestamps_;
  rapidjson::StringBuffer buffer_;
  Writer writer_;  // kept: its level stack is reused
};

}  // namespace crosscut::logging
