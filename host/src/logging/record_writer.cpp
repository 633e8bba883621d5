#include "logging/record_writer.hpp"

#include <cstdio>

#include "logging/engine_logger.hpp"

namespace crosscut::logging {

RecordWriter::RecordWriter(std::chrono::minutes utc_offset, std::vector<sdk::LogSink*> sinks)
    : formatter_(utc_offset), sinks_(std::move(sinks)) {}

void RecordWriter::replace_sinks(std::chrono::minutes utc_offset,
                                 std::vector<sdk::LogSink*> sinks) {
  formatter_.set_utc_offset(utc_offset);
  sinks_ = std::move(sinks);
}

bool RecordWriter::write(const DecodedRecord& r) noexcept {
  try {
    const auto* logger = static_cast<const EngineLogger*>(r.logger);
    const auto ts = std::chrono::system_clock::time_point(
        std::chrono::duration_cast<std::chrono::system_clock::duration>(
            std::chrono::nanoseconds(r.timestamp_ns)));
    const bool has_extra = r.extra.is_object() && !r.extra.as_object().empty();
    sdk::LogRecord rec;
    rec.timestamp = ts;
    rec.level = r.level;
    rec.logger = logger->name();
    rec.category = logger->category();
    rec.message = r.message;
    rec.extra = has_extra ? &r.extra : nullptr;
    rec.json = formatter_.format(ts, rec.level, rec.logger, rec.category, rec.message, rec.extra);
    deliver(rec);
    written_.fetch_add(1, std::memory_order_relaxed);
    if (const auto i = static_cast<std::size_t>(r.level); i < by_level_.size())
      by_level_[i].fetch_add(1, std::memory_order_relaxed);
    return true;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "crosscut: log record lost: %s\n", e.what());
    return false;
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
}

void RecordWriter::flush() noexcept {
  if (sinks_.empty()) std::fflush(stderr);
  for (auto* sink : sinks_) sink->flush();
}

void RecordWriter::reopen() noexcept {
  for (auto* sink : sinks_) sink->reopen();
}

}  // namespace crosscut::logging
