#include "logging/json_line.hpp"

#include <type_traits>
#include <variant>

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

// Scratch space for strings that must be copied to be repaired or masked.
struct Scratch {
  std::string text;
  sdk::Value value;
};

void write_scrubbed(Writer& w, const sdk::Value& v, const RecordScrubber& scrubber,
                    Scratch& scratch) {
  core::write_json_value(w, scrubber.value(v, scratch.value), kValueStyle);
}

void write_field(Writer& w, const sdk::FieldValue& f, const RecordScrubber& scrubber,
                 Scratch& scratch) {
  std::visit(
      [&](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, std::string_view>) {
          write_string(w, scrubber.text(x, scratch.text));
        } else if constexpr (std::is_same_v<T, const sdk::Value*>) {
          if (x)
            write_scrubbed(w, *x, scrubber, scratch);
          else
            w.Null();
        } else {
          core::write_json_scalar(w, x, kValueStyle.non_finite);
        }
      },
      f.get());
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

std::string_view JsonLineFormatter::format_call(
    std::chrono::system_clock::time_point timestamp_value, sdk::Level level,
    std::string_view logger, std::string_view category, std::string_view message,
    sdk::Fields fields, const sdk::Value* exception, std::uint64_t suppressed,
    const sdk::Value::Object* context, const RecordScrubber& scrubber) {
  thread_local Scratch scratch;
  auto key = [&](std::string_view k) { write_string(writer_, scrubber.key(k, scratch.text)); };
  Writer& w = start_line(timestamp_value, level);
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
