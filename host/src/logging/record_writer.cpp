#include "logging/record_writer.hpp"

#include <cstdio>

#include "logging/engine_logger.hpp"
#include "logging/utf8_sanitize.hpp"

namespace crosscut::logging {

void sanitize_value(sdk::Value& v) {
  if (v.is_string()) {
    if (!is_valid_utf8(v.as_string())) {
      std::string s = v.as_string();
      sanitize_utf8(s);
      v = sdk::Value(std::move(s));
    }
  } else if (v.is_array()) {
    for (auto& item : v.as_array()) sanitize_value(item);
  } else if (v.is_object()) {
    for (auto& [k, item] : v.as_object()) {
      sanitize_utf8(k);
      sanitize_value(item);
    }
  }
}

RecordWriter::RecordWriter(const PiiMasker& masker, std::chrono::minutes utc_offset,
                           std::vector<sdk::LogSink*> sinks)
    : masker_(masker), formatter_(utc_offset), sinks_(std::move(sinks)) {}

void RecordWriter::write(DecodedRecord& r) noexcept {
  try {
    sanitize_utf8(r.message);
    sanitize_value(r.extra);
    if (masker_.enabled()) {
      masker_.mask(r.message);
      masker_.mask(r.extra);
    }
    const auto* logger = static_cast<const EngineLogger*>(r.header.logger);
    const auto ts = std::chrono::system_clock::time_point(
        std::chrono::duration_cast<std::chrono::system_clock::duration>(
            std::chrono::nanoseconds(r.header.timestamp_ns)));
    const bool has_extra = r.extra.is_object() && !r.extra.as_object().empty();
    sdk::LogRecord rec;
    rec.timestamp = ts;
    rec.level = r.header.level;
    rec.logger = logger->name();
    rec.category = logger->category();
    rec.message = r.message;
    rec.extra = has_extra ? &r.extra : nullptr;
    rec.json = formatter_.format(ts, rec.level, rec.logger, rec.category, rec.message, rec.extra);
    deliver(rec);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "crosscut: log record lost: %s\n", e.what());
  }
}

void RecordWriter::write_internal(std::chrono::system_clock::time_point at, sdk::Level level,
                                  std::string_view message, const sdk::Value& extra) noexcept {
  try {
    sdk::LogRecord rec;
    rec.timestamp = at;
    rec.level = level;
    rec.logger = "crosscut.logging";
    rec.category = "system";
    rec.message = message;
    rec.extra = &extra;
    rec.json = formatter_.format(at, level, rec.logger, rec.category, message, &extra);
    deliver(rec);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "crosscut: log record lost: %s\n", e.what());
  }
}

void RecordWriter::deliver(const sdk::LogRecord& rec) noexcept {
  if (sinks_.empty()) {
    // No sink configured: errors must never be invisible.
    line_.assign(rec.json);
    line_ += '\n';
    std::fwrite(line_.data(), 1, line_.size(), stderr);
  } else {
    for (auto* sink : sinks_) sink->write(rec);
  }
  written_.fetch_add(1, std::memory_order_relaxed);
}

void RecordWriter::flush() noexcept {
  if (sinks_.empty()) std::fflush(stderr);
  for (auto* sink : sinks_) sink->flush();
}

void RecordWriter::reopen() noexcept {
  for (auto* sink : sinks_) sink->reopen();
}

}  // namespace crosscut::logging
