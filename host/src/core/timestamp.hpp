// The one timestamp format of crosscut's JSON output, "2025-01-13T14:30:00.123456+09:00"
// (microseconds, a fixed UTC offset), and the one way to read a configured offset.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace crosscut::core {

// "+09:00", "-05:30", "+0900", "+09", "Z", "UTC", or "local" (this machine's offset now);
// nullopt for anything else and for offsets beyond ±14:00.
std::optional<std::chrono::minutes> parse_utc_offset(std::string_view text);

// Formats instants at one offset. Keeps the text of the last second it formatted, so a run
// of timestamps inside one second costs a few stores each. Not thread-safe: one per thread.
class TimestampFormatter {
 public:
  explicit TimestampFormatter(std::chrono::minutes utc_offset);

  // The text, valid until the next call.
  std::string_view format(std::chrono::system_clock::time_point t);

 private:
  char offset_text_[8] = {};
  std::chrono::minutes offset_;
  std::int64_t cached_second_ = INT64_MIN;
  char text_[40] = {};  // "YYYY-MM-DDTHH:MM:SS" of cached_second_, then ".ffffff+hh:mm"
};

// One timestamp, for callers that format rarely.
std::string format_timestamp(std::chrono::system_clock::time_point t,
                             std::chrono::minutes utc_offset);

}  // namespace crosscut::core
