#include "logging/json_line.hpp"

#include "core/json_value_writer.hpp"

namespace crosscut::logging {
namespace {

using Writer = core::JsonWriter;

// Strings reaching the writer are valid UTF-8 already: names and values pass the scrubber.
constexpr core::JsonValueStyle kValueStyle{.non_finite = core::NonFinite::name,
                                           .repair_utf8 = false};

void write_string(Writer& w, std::string_view s) {
  core::write_json_string(w, s, false);
}

}  // namespace

JsonLineFormatter::JsonLineFormatter(std::chrono::minutes utc_offset) : timestamps_(utc_offset) {}

JsonLineFormatter::Writer& JsonLineFormatter::start_line(
    std::chrono::system_clock::time_point timestamp, sdk::Level level) {
  buffer_.Clear();
  writer_.Reset(buffer_);
  writer_.StartObject();
  writer_.Key("timestamp");
  write_string(writer_, timestamps_.format(timestamp));
  writer_.Key("level");
  write_string(writer_, sdk::level_name(level));
  return writer_;
}

std::string_view JsonLineFormatter::format(std::chrono::system_clock::time_point timestamp_value,
                                           sdk::Level level, std::string_view logger,
                                           std::string_view category, std::string_view message,
                                           const sdk::Value* extra) {
  Writer& w = start_line(timestamp_value, level);
  w.Key("logger");
  write_string(w, logger);
  w.Key("category");
  write_string(w, category);
  w.Key("message");
  write_string(w, message);
  w.Key("extra");
  if (extra && extra->is_object()) {
    core::write_json_value(w, *extra, kValueStyle);
  } else {
    w.StartObject();
    w.EndObject();
  }
  w.EndObject();
  return std::string_view(buffer_.GetString(), buffer_.GetSize());
}

}  // namespace crosscut::logging
