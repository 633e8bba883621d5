#include "core/timestamp.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>

namespace crosscut::core {
namespace {

constexpr int kMaxOffsetMinutes = 14 * 60;  // the widest offset in use (Line Islands)

std::optional<int> two_digits(std::string_view s) {
  if (s.size() != 2 || s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9') return std::nullopt;
  return (s[0] - '0') * 10 + (s[1] - '0');
}

std::chrono::minutes local_offset() {
  std::time_t now = std::time(nullptr);
  std::tm local{};
  localtime_r(&now, &local);
  return std::chrono::minutes(local.tm_gmtoff / 60);
}

void two(char* p, int v) {
  p[0] = static_cast<char>('0' + v / 10);
  p[1] = static_cast<char>('0' + v % 10);
}

}  // namespace

std::optional<std::chrono::minutes> parse_utc_offset(std::string_view text) {
  if (text == "Z" || text == "UTC" || text == "utc") return std::chrono::minutes(0);
  if (text == "local") return local_offset();
  if (text.size() < 3 || (text[0] != '+' && text[0] != '-')) return std::nullopt;
  const int sign = text[0] == '-' ? -1 : 1;
  std::string_view rest = text.substr(1);
  const auto hours = two_digits(rest.substr(0, 2));
  if (!hours) return std::nullopt;
  rest.remove_prefix(2);
  int minutes = 0;
  if (!rest.empty()) {
    if (rest[0] == ':') rest.remove_prefix(1);
    const auto m = two_digits(rest);
    if (!m || *m >= 60) return std::nullopt;
    minutes = *m;
  }
  const int total = *hours * 60 + minutes;
  if (total > kMaxOffsetMinutes) return std::nullopt;
  return std::chrono::minutes(sign * total);
}

TimestampFormatter::TimestampFormatter(std::chrono::minutes utc_offset) : offset_(utc_offset) {
  // Parsed offsets are within ±14:00; clamp what a caller may pass so the text stays 6 bytes.
  const int m =
      static_cast<int>(std::min<long>(std::labs(static_cast<long>(offset_.count())), 99 * 60 + 59));
  offset_text_[0] = offset_.count() < 0 ? '-' : '+';
  two(offset_text_ + 1, m / 60);
  offset_text_[3] = ':';
  two(offset_text_ + 4, m % 60);
}

std::string_view TimestampFormatter::format(std::chrono::system_clock::time_point t) {
  using namespace std::chrono;
  const auto local = time_point_cast<microseconds>(t) + duration_cast<microseconds>(offset_);
  const auto secs = floor<seconds>(local);
  const std::int64_t sec_count = secs.time_since_epoch().count();
  if (sec_count != cached_second_) {
    const auto day = floor<days>(secs);
    const year_month_day ymd(day);
    const hh_mm_ss hms(secs - day);
    std::snprintf(text_, 20, "%04d-%02u-%02u", static_cast<int>(ymd.year()),
                  static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
    text_[10] = 'T';
    two(text_ + 11, static_cast<int>(hms.hours().count()));
    text_[13] = ':';
    two(text_ + 14, static_cast<int>(hms.minutes().count()));
    text_[16] = ':';
    two(text_ + 17, static_cast<int>(hms.seconds().count()));
    text_[19] = '.';
    cached_second_ = sec_count;
  }
  auto us = static_cast<long>((local - secs).count());
  for (int i = 25; i >= 20; --i) {
    text_[i] = static_cast<char>('0' + us % 10);
    us /= 10;
  }
  std::memcpy(text_ + 26, offset_text_, 6);
  return std::string_view(text_, 32);
}

std::string format_timestamp(std::chrono::system_clock::time_point t,
                             std::chrono::minutes utc_offset) {
  TimestampFormatter formatter(utc_offset);
  return std::string(formatter.format(t));
}

}  // namespace crosscut::core
