#include "errors/error_dto.hpp"

#include <rapidjson/encodings.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cmath>
#include <cstdio>

namespace crosscut {
namespace {

using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer>;

constexpr int kMaxContextDepth = 32;

bool valid_utf8(std::string_view s) {
  for (unsigned char c : s)
    if (c >= 0x80) goto slow;
  return true;
slow:
  rapidjson::StringStream in(s.data());
  rapidjson::StringBuffer sink;
  while (static_cast<std::size_t>(in.Tell()) < s.size())
    if (!rapidjson::UTF8<>::Validate(in, sink)) return false;
  return true;
}

// Replaces each byte that does not start a valid UTF-8 sequence with U+FFFD.
std::string repair_utf8(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 8);
  std::size_t i = 0;
  while (i < s.size()) {
    const std::string rest(s.substr(i, 4));
    rapidjson::StringStream in(rest.c_str());
    rapidjson::StringBuffer sink;
    if (rapidjson::UTF8<>::Validate(in, sink) && in.Tell() > 0) {
      out.append(s.substr(i, in.Tell()));
      i += in.Tell();
    } else {
      out.append("\xEF\xBF\xBD");
      ++i;
    }
  }
  return out;
}

void write_string(JsonWriter& w, std::string_view s) {
  if (valid_utf8(s)) {
    w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
  } else {
    const std::string fixed = repair_utf8(s);
    w.String(fixed.data(), static_cast<rapidjson::SizeType>(fixed.size()));
  }
}

void write_or_unknown(JsonWriter& w, std::string_view s) {
  write_string(w, s.empty() ? "unknown" : s);
}

void write_value(JsonWriter& w, const sdk::Value& v, int depth) {
  if (depth > kMaxContextDepth) {
    w.Null();
    return;
  }
  v.visit([&](const auto& x) {
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
        w.Null();
    } else if constexpr (std::is_same_v<T, std::string>) {
      write_string(w, x);
    } else if constexpr (std::is_same_v<T, sdk::Value::Array>) {
      w.StartArray();
      for (const auto& item : x) write_value(w, item, depth + 1);
      w.EndArray();
    } else {
      w.StartObject();
      for (const auto& [key, item] : x) {
        write_string(w, key);
        write_value(w, item, depth + 1);
      }
      w.EndObject();
    }
  });
}

void write_exception(JsonWriter& w, const sdk::ExceptionInfo& e) {
  w.StartObject();
  w.Key("type");
  write_or_unknown(w, e.type);
  w.Key("message");
  write_string(w, e.message);
  if (!e.nested.empty()) {
    w.Key("nested");
    w.StartArray();
    for (const auto& cause : e.nested) write_exception(w, cause);
    w.EndArray();
  }
  w.EndObject();
}

}  // namespace

std::string format_timestamp(std::chrono::system_clock::time_point t,
                             std::chrono::minutes utc_offset) {
  using namespace std::chrono;
  const auto local = time_point_cast<microseconds>(t) + utc_offset;
  const auto day = floor<days>(local);
  const year_month_day ymd(day);
  const hh_mm_ss hms(local - day);
  const long long off = utc_offset.count();
  const long long off_abs = off < 0 ? -off : off;
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02lld:%02lld:%02lld.%06lld%c%02lld:%02lld",
                static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                static_cast<unsigned>(ymd.day()), static_cast<long long>(hms.hours().count()),
                static_cast<long long>(hms.minutes().count()),
                static_cast<long long>(hms.seconds().count()),
                static_cast<long long>(hms.subseconds().count()), off < 0 ? '-' : '+', off_abs / 60,
                off_abs % 60);
  return buf;
}

std::string render_error_dto(const ErrorRecord& r, const ServiceInfo& service,
                             std::chrono::minutes utc_offset, std::string_view error_id,
                             std::uint64_t duplicates) {
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  w.Key("version");
  w.Int(1);
  w.Key("error_id");
  write_string(w, error_id);
  w.Key("timestamp");
  write_string(w, format_timestamp(r.timestamp, utc_offset));
  w.Key("kind");
  write_or_unknown(w, r.kind);
  w.Key("severity");
  write_string(w, sdk::severity_name(r.severity));
  w.Key("exception");
  write_exception(w, r.exception);
  w.Key("target");
  w.StartObject();
  w.Key("exchange");
  write_or_unknown(w, r.target.exchange);
  w.Key("region");
  write_or_unknown(w, r.target.region);
  w.Key("request_type");
  write_or_unknown(w, r.target.request_type);
  w.EndObject();
  w.Key("context");
  if (r.context.is_object()) {
    write_value(w, r.context, 0);
  } else {
    w.StartObject();
    if (!r.context.is_null()) {
      w.Key("value");
      write_value(w, r.context, 1);
    }
    w.EndObject();
  }
  w.Key("rule");
  if (r.rule.empty())
    w.Null();
  else
    write_string(w, r.rule);
  w.Key("breaker");
  if (r.breaker_state) {
    w.StartObject();
    w.Key("key");
    write_string(w, r.resource_key);
    w.Key("state");
    write_string(w, sdk::state_name(*r.breaker_state));
    w.EndObject();
  } else {
    w.Null();
  }
  w.Key("service");
  w.StartObject();
  w.Key("name");
  write_or_unknown(w, service.name);
  w.Key("host");
  write_or_unknown(w, service.host);
  w.Key("pid");
  w.Int64(service.pid);
  w.EndObject();
  w.Key("correlation_id");
  if (r.correlation_id.empty())
    w.Null();
  else
    write_string(w, r.correlation_id);
  w.Key("duplicates");
  w.Uint64(duplicates);
  w.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

}  // namespace crosscut
