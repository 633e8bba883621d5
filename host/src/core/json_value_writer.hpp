// Writing sdk::Value as JSON through RapidJSON: the one implementation the host's JSON
// documents (log lines, error reports) share.
#pragma once

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cmath>
#include <cstdint>
#include <string_view>
#include <variant>

#include "crosscut/sdk/value.hpp"

namespace crosscut::core {

using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer>;

// JSON has no NaN or infinity: a non-finite double becomes null, or the string "NaN",
// "Infinity" or "-Infinity" (log lines keep the fact visible; error reports stay numeric-or-null).
enum class NonFinite { null, name };

struct JsonValueStyle {
  NonFinite non_finite = NonFinite::null;
  // true: strings and keys that are not valid UTF-8 are written with U+FFFD for the bad
  // sequences; false: the caller guarantees valid UTF-8 (RapidJSON would copy it through).
  bool repair_utf8 = false;
  int max_depth = 32;  // containers nested deeper than this are written as null
};

// "NaN", "Infinity" or "-Infinity".
std::string_view non_finite_name(double d) noexcept;

// `s` with each bad UTF-8 sequence replaced by U+FFFD (copied only when there is one).
void write_repaired_json_string(JsonWriter& w, std::string_view s);

// Inline, with the scalars: these sit on the logging hot path.
inline void write_json_string(JsonWriter& w, std::string_view s, bool repair_utf8) {
  if (repair_utf8)
    write_repaired_json_string(w, s);
  else
    w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

// The scalars sdk::Value and sdk::FieldValue share.
inline void write_json_scalar(JsonWriter& w, std::monostate, NonFinite) {
  w.Null();
}
inline void write_json_scalar(JsonWriter& w, bool b, NonFinite) {
  w.Bool(b);
}
inline void write_json_scalar(JsonWriter& w, std::int64_t i, NonFinite) {
  w.Int64(i);
}
inline void write_json_scalar(JsonWriter& w, double d, NonFinite non_finite) {
  if (std::isfinite(d))
    w.Double(d);
  else if (non_finite == NonFinite::name)
    write_json_string(w, non_finite_name(d), false);
  else
    w.Null();
}

// `depth`: how deep `v` already stands in the document (counts against max_depth).
void write_json_value(JsonWriter& w, const sdk::Value& v, const JsonValueStyle& style,
                      int depth = 0);

}  // namespace crosscut::core
