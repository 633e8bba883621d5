#include "logging/json_line.hpp"

#include <rapidjson/writer.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <type_traits>
#include <variant>

namespace crosscut::logging {
namespace {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

void write_string(Writer& w, std::string_view s) {
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

void write_value(Writer& w, const sdk::Value& v) {
  if (v.is_null())
    w.Null();
  else if (v.is_bool())
    w.Bool(v.as_bool());
  else if (v.is_int())
    w.Int64(v.as_int());
  else if (v.is_double()) {
    double d = v.as_double();
    if (std::isfinite(d))
      w.Double(d);
    else
      write_string(w, non_finite_name(d));
  } else if (v.is_string())
    write_string(w, v.as_string());
  else if (v.is_array()) {
    w.StartArray();
    for (const auto& item : v.as_array()) write_value(w, item);
    w.EndArray();
  } else {
    w.StartObject();
    for (const auto& [k, item] : v.as_object()) {
      write_string(w, k);
      write_value(w, item);
    }
    w.EndObject();
  }
}

// Scratch space for strings that must be copied to be repaired or masked.
struct Scratch {
  std::string text;
  sdk::Value value;
};

void write_scrubbed(Writer& w, const sdk::Value& v, const RecordScrubber& scrubber,
                    Scratch& scratch) {
  write_value(w, scrubber.value(v, scratch.value));
}

void write_field(Writer& w, const sdk::FieldValue& f, const RecordScrubber& scrubber,
                 Scratch& scratch) {
  std::visit(
      [&](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, std::monostate>) {
          w.Null();
        } else if constexpr (std::is_same_v<T, bool>) {
          w.Bool(x);
        } else if constexpr (std::is_same_v<T, std::int64_t>) {
          w.Int64(x);
        } else if constexpr (std::is_same_v<T, double>) {
          if (std::isfinite(x))
            w.Double(x);
          else
            write_string(w, non_finite_name(x));
        } else if constexpr (std::is_same_v<T, std::string_view>) {
          write_string(w, scrubber.text(x, scratch.text));
        } else {
          if (x)
            write_scrubbed(w, *x, scrubber, scratch);
          else
            w.Null();
        }
      },
      f.get());
}

void two(char* p, int v) {
  p[0] = static_cast<char>('0' + v / 10);
  p[1] = static_cast<char>('0' + v % 10);
}

}  // namespace

std::string_view non_finite_name(double d) noexcept {
  if (std::isnan(d)) return "NaN";
  return d > 0 ? "Infinity" : "-Infinity";
}

JsonLineFormatter::JsonLineFormatter(std::chrono::minutes utc_offset) : offset_(utc_offset) {
  // Offsets are validated to within +-14:00 by the config reader; clamp anyway.
  const int m =
      static_cast<int>(std::min<long>(std::labs(static_cast<long>(offset_.count())), 99 * 60 + 59));
  offset_text_[0] = offset_.count() < 0 ? '-' : '+';
  two(offset_text_ + 1, m / 60);
  offset_text_[3] = ':';
  two(offset_text_ + 4, m % 60);
}

std::string_view JsonLineFormatter::timestamp(std::chrono::system_clock::time_point t) {
  using namespace std::chrono;
  const auto local = time_point_cast<microseconds>(t) + duration_cast<microseconds>(offset_);
  const auto secs = floor<seconds>(local);
  const auto micros = (local - secs).count();
  const std::int64_t sec_count = secs.time_since_epoch().count();
  if (sec_count != cached_second_) {
    const auto day = floor<days>(secs);
    const year_month_day ymd(day);
    const hh_mm_ss hms(secs - day);
    std::snprintf(ts_, 20, "%04d-%02u-%02u", static_cast<int>(ymd.year()),
                  static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
    ts_[10] = 'T';
    two(ts_ + 11, static_cast<int>(hms.hours().count()));
    ts_[13] = ':';
    two(ts_ + 14, static_cast<int>(hms.minutes().count()));
    ts_[16] = ':';
    two(ts_ + 17, static_cast<int>(hms.seconds().count()));
    ts_[19] = '.';
    cached_second_ = sec_count;
  }
  auto us = static_cast<long>(micros);
  for (int i = 25; i >= 20; --i) {
    ts_[i] = static_cast<char>('0' + us % 10);
    us /= 10;
  }
  std::memcpy(ts_ + 26, offset_text_, 6);
  return std::string_view(ts_, 32);
}

std::string_view JsonLineFormatter::format(std::chrono::system_clock::time_point timestamp_value,
                                           sdk::Level level, std::string_view logger,
                                           std::string_view category, std::string_view message,
                                           const sdk::Value* extra) {
  buffer_.Clear();
  writer_.Reset(buffer_);
  Writer& w = writer_;
  w.StartObject();
  w.Key("timestamp");
  write_string(w, timestamp(timestamp_value));
  w.Key("level");
  write_string(w, sdk::level_name(level));
  w.Key("logger");
  write_string(w, logger);
  w.Key("category");
  write_string(w, category);
  w.Key("message");
  write_string(w, message);
  w.Key("extra");
  if (extra && extra->is_object()) {
    write_value(w, *extra);
  } else {
    w.StartObject();
    w.EndObject();
  }
  w.EndObject();
  return std::string_view(buffer_.GetString(), buffer_.GetSize());
}

std::string_view JsonLineFormatter::format_call(
    std::chrono::system_clock::time_point timestamp_value, sdk::Level level,
    std::string_view logger, std::string_view category, std::string_view message,
    sdk::Fields fields, const sdk::Value* exception, std::uint64_t suppressed,
    const sdk::Value::Object* context, const RecordScrubber& scrubber) {
  thread_local Scratch scratch;
  auto key = [&](std::string_view k) { write_string(writer_, scrubber.key(k, scratch.text)); };
  buffer_.Clear();
  writer_.Reset(buffer_);
  Writer& w = writer_;
  w.StartObject();
  w.Key("timestamp");
  write_string(w, timestamp(timestamp_value));
  w.Key("level");
  write_string(w, sdk::level_name(level));
  w.Key("logger");
  key(logger);
  w.Key("category");
  key(category);
  w.Key("message");
  write_string(w, scrubber.text(message, scratch.text));
  w.Key("extra");
  w.StartObject();
  for (const auto& f : fields) {
    key(f.key);
    if (scrubber.sensitive(f.key))
      w.String("[MASKED]");
    else
      write_field(w, f.value, scrubber, scratch);
  }
  if (exception) {
    w.Key("exception");
    write_scrubbed(w, *exception, scrubber, scratch);
  }
  if (suppressed) {
    w.Key("suppressed");
    w.Int64(static_cast<std::int64_t>(suppressed));
  }
  if (context) {
    auto taken = [&](std::string_view k) {
      if ((exception && k == "exception") || (suppressed && k == "suppressed")) return true;
      for (const auto& f : fields)
        if (f.key == k) return true;
      return false;
    };
    for (const auto& [k, v] : *context) {
      if (taken(k)) continue;
      key(k);
      if (scrubber.sensitive(k))
        w.String("[MASKED]");
      else
        write_scrubbed(w, v, scrubber, scratch);
    }
  }
  w.EndObject();
  w.EndObject();
  return std::string_view(buffer_.GetString(), buffer_.GetSize());
}

}  // namespace crosscut::logging
