// Parsing of the scalar forms configuration uses: booleans, integers, numbers, durations
// ("250ms", "60s", "5m", "1h") and sizes ("512", "64KiB", "10MiB", "1GB").
// Pure functions; on failure they return nullopt and, if asked, a one-line reason.
#pragma once

#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

#include "crosscut/sdk/abi.hpp"

CROSSCUT_SDK_BEGIN_NAMESPACE

inline std::optional<bool> parse_bool(std::string_view s) {
  if (s == "true" || s == "True" || s == "TRUE" || s == "yes" || s == "on") return true;
  if (s == "false" || s == "False" || s == "FALSE" || s == "no" || s == "off") return false;
  return std::nullopt;
}

inline std::optional<std::int64_t> parse_int(std::string_view s) {
  std::int64_t v = 0;
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

inline std::optional<double> parse_number(std::string_view s) {
  double v = 0;
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || s.empty() || !std::isfinite(v))
    return std::nullopt;
  return v;
}

namespace detail {
// Splits "12.5ms" into 12.5 and "ms"; false when there is no leading number.
inline bool split_quantity(std::string_view s, double& number, std::string_view& unit) {
  std::size_t i = 0;
  while (i < s.size() && ((s[i] >= '0' && s[i] <= '9') || s[i] == '.')) ++i;
  if (i == 0) return false;
  auto parsed = parse_number(s.substr(0, i));
  if (!parsed) return false;
  number = *parsed;
  unit = s.substr(i);
  while (!unit.empty() && unit.front() == ' ') unit.remove_prefix(1);
  return true;
}
}  // namespace detail

inline std::optional<std::chrono::nanoseconds> parse_duration(std::string_view s,
                                                              std::string* error = nullptr) {
  double n = 0;
  std::string_view unit;
  auto bad = [&](const std::string& why) -> std::optional<std::chrono::nanoseconds> {
    if (error) *error = why;
    return std::nullopt;
  };
  if (!detail::split_quantity(s, n, unit))
    return bad("expected a duration such as 250ms, 60s or 5m, got '" + std::string(s) + "'");
  double scale = 0;
  if (unit == "ns")
    scale = 1;
  else if (unit == "us")
    scale = 1e3;
  else if (unit == "ms")
    scale = 1e6;
  else if (unit == "s")
    scale = 1e9;
  else if (unit == "m" || unit == "min")
    scale = 60e9;
  else if (unit == "h")
    scale = 3600e9;
  else if (unit == "d")
    scale = 86400e9;
  else if (unit.empty())
    return bad("duration '" + std::string(s) + "' needs a unit (ms, s, m, h)");
  else
    return bad("unknown duration unit '" + std::string(unit) + "' in '" + std::string(s) +
               "' (use ns, us, ms, s, m, h, d)");
  double total = n * scale;
  // 2^63 itself, the double nearest INT64_MAX, is already out of range.
  if (total >= static_cast<double>(std::numeric_limits<std::int64_t>::max()))
    return bad("duration '" + std::string(s) + "' is too large");
  return std::chrono::nanoseconds(static_cast<std::int64_t>(total));
}

inline std::optional<std::uint64_t> parse_size(std::string_view s, std::string* error = nullptr) {
  double n = 0;
  std::string_view unit;
  auto bad = [&](const std::string& why) -> std::optional<std::uint64_t> {
    if (error) *error = why;
    return std::nullopt;
  };
  if (!detail::split_quantity(s, n, unit))
    return bad("expected a size such as 512, 64KiB or 10MiB, got '" + std::string(s) + "'");
  double scale = 0;
  if (unit.empty() || unit == "B")
    scale = 1;
  else if (unit == "KiB")
    scale = 1024.0;
  else if (unit == "MiB")
    scale = 1024.0 * 1024;
  else if (unit == "GiB")
    scale = 1024.0 * 1024 * 1024;
  else if (unit == "KB" || unit == "kB")
    scale = 1e3;
  else if (unit == "MB")
    scale = 1e6;
  else if (unit == "GB")
    scale = 1e9;
  else
    return bad("unknown size unit '" + std::string(unit) + "' in '" + std::string(s) +
               "' (use B, KiB, MiB, GiB, KB, MB, GB)");
  double total = n * scale;
  if (total > 9.0e18) return bad("size '" + std::string(s) + "' is too large");
  return static_cast<std::uint64_t>(total);
}

CROSSCUT_SDK_END_NAMESPACE
