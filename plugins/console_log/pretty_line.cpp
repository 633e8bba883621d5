#include "pretty_line.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cmath>
#include <cstdio>
#include <ctime>

namespace crosscut::plugins::console_log {
namespace {

std::string_view colour_of(sdk::Level l) {
  switch (l) {
    case sdk::Level::debug:
      return "\x1b[2m";
    case sdk::Level::info:
      return "\x1b[32m";
    case sdk::Level::warning:
      return "\x1b[33m";
    case sdk::Level::error:
      return "\x1b[31m";
    case sdk::Level::critical:
      return "\x1b[1;41m";
    case sdk::Level::off:
      return "";
  }
  return "";
}

void append_escaped(std::string& out, std::string_view s) {
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u != 0x7f) {
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\r') {
      out += "\\r";
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", u);
      out += buf;
    }
  }
}

void write_json(rapidjson::Writer<rapidjson::StringBuffer>& w, const sdk::Value& v) {
  if (v.is_null())
    w.Null();
  else if (v.is_bool())
    w.Bool(v.as_bool());
  else if (v.is_int())
    w.Int64(v.as_int());
  else if (v.is_double()) {
    if (std::isfinite(v.as_double()))
      w.Double(v.as_double());
    else
      w.String(std::isnan(v.as_double()) ? "NaN" : (v.as_double() > 0 ? "Infinity" : "-Infinity"));
  } else if (v.is_string()) {
    w.String(v.as_string().data(), static_cast<rapidjson::SizeType>(v.as_string().size()));
  } else if (v.is_array()) {
    w.StartArray();
    for (const auto& x : v.as_array()) write_json(w, x);
    w.EndArray();
  } else {
    w.StartObject();
    for (const auto& [k, x] : v.as_object()) {
      w.Key(k.data(), static_cast<rapidjson::SizeType>(k.size()));
      write_json(w, x);
    }
    w.EndObject();
  }
}

bool plain_word(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || c == '"' || c == '=' || c == '\\' || u == 0x7f) return false;
  }
  return true;
}

// The record's timestamp as the JSON line has it (it carries the configured offset).
std::string_view json_timestamp(std::string_view json) {
  constexpr std::string_view prefix = "{\"timestamp\":\"";
  if (!json.starts_with(prefix)) return {};
  const auto end = json.find('"', prefix.size());
  if (end == std::string_view::npos) return {};
  return json.substr(prefix.size(), end - prefix.size());
}

}  // namespace

void append_pretty_line(std::string& out, const sdk::LogRecord& r, bool colour) {
  std::string_view ts = json_timestamp(r.json);
  char fallback[40];
  if (ts.empty()) {
    const std::time_t t = std::chrono::system_clock::to_time_t(r.timestamp);
    std::tm tm{};
    gmtime_r(&t, &tm);
    std::strftime(fallback, sizeof fallback, "%Y-%m-%dT%H:%M:%SZ", &tm);
    ts = fallback;
  }
  out += ts;
  out += ' ';
  if (colour) out += colour_of(r.level);
  std::string_view level = sdk::level_name(r.level);
  out += level;
  if (colour) out += "\x1b[0m";
  out.append(level.size() < 8 ? 8 - level.size() : 0, ' ');
  out += ' ';
  append_escaped(out, r.logger);
  out += '/';
  append_escaped(out, r.category);
  out += ": ";
  append_escaped(out, r.message);
  if (r.extra && r.extra->is_object()) {
    for (const auto& [k, v] : r.extra->as_object()) {
      out += ' ';
      append_escaped(out, k);
      out += '=';
      if (v.is_string() && plain_word(v.as_string())) {
        out += v.as_string();
      } else {
        rapidjson::StringBuffer buf;
        rapidjson::Writer<rapidjson::StringBuffer> w(buf);
        write_json(w, v);
        out.append(buf.GetString(), buf.GetSize());
      }
    }
  }
}

}  // namespace crosscut::plugins::console_log
