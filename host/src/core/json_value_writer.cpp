#include "core/json_value_writer.hpp"

#include <cmath>
#include <string>
#include <type_traits>
#include <variant>

#include "core/utf8_sanitize.hpp"

namespace crosscut::core {

std::string_view non_finite_name(double d) noexcept {
  if (std::isnan(d)) return "NaN";
  return d > 0 ? "Infinity" : "-Infinity";
}

void write_repaired_json_string(JsonWriter& w, std::string_view s) {
  if (is_valid_utf8(s)) {
    w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
    return;
  }
  std::string fixed;
  fixed.reserve(s.size() + 8);
  append_sanitized_utf8(fixed, s);
  w.String(fixed.data(), static_cast<rapidjson::SizeType>(fixed.size()));
}

void write_json_value(JsonWriter& w, const sdk::Value& v, const JsonValueStyle& style, int depth) {
  if (depth > style.max_depth) {
    w.Null();
    return;
  }
  v.visit([&](const auto& x) {
    using T = std::decay_t<decltype(x)>;
    if constexpr (std::is_same_v<T, std::string>) {
      write_json_string(w, x, style.repair_utf8);
    } else if constexpr (std::is_same_v<T, sdk::Value::Array>) {
      w.StartArray();
      for (const auto& item : x) write_json_value(w, item, style, depth + 1);
      w.EndArray();
    } else if constexpr (std::is_same_v<T, sdk::Value::Object>) {
      w.StartObject();
      for (const auto& [key, item] : x) {
        write_json_string(w, key, style.repair_utf8);
        write_json_value(w, item, style, depth + 1);
      }
      w.EndObject();
    } else {
      write_json_scalar(w, x, style.non_finite);
    }
  });
}

}  // namespace crosscut::core
