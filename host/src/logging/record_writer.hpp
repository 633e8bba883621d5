// The last step of a record: rendering its JSON line and handing it to the log sinks (or to
// stderr when there are none). Records arrive repaired and masked.
#pragma once

#include <array>

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "crosscut/sdk/log.hpp"
#include "logging/json_line.hpp"
#include "logging/record_codec.hpp"

namespace crosscut::logging {

class EngineLogger;

// Not thread-safe: one thread at a time (the logging thread, or a caller under a lock).
// Sinks are borrowed and must outlive the writer's use of them.
class RecordWriter {
 public:
  RecordWriter(std::chrono::minutes utc_offset, std::vector<sdk::LogSink*> sinks);

  // Renders and delivers one record (its strings already repaired and masked); false when
  // it could not be rendered (out of memory).
  bool write(const DecodedRecord& record) noexcept;
  // Delivers an engine-made record (drop reports, crashes) that needs no repair or masking.
  void write_internal(std::chrono::system_clock::time_point at, sdk::Level level,
                      std::string_view message, const sdk::Value& extra) noexcept;
  void flush() noexcept;
  void reopen() noexcept;
  // A reloaded configuration's sinks and timezone; written() carries on.
  void replace_sinks(std::chrono::minutes utc_offset, std::vector<sdk::LogSink*> sinks);

  // Records delivered by write() (to the sinks or stderr); write_internal() ones not counted.
  std::uint64_t written() const noexcept { return written_.load(std::memory_order_relaxed); }
  // Of written(), those of `level` (debug to critical).
  std::uint64_t written_at(sdk::Level level) const noexcept {
    const auto i = static_cast<std::size_t>(level);
    return i < by_level_.size() ? by_level_[i].load(std::memory_order_relaxed) : 0;
  }

 private:
  void deliver(const sdk::LogRecord& record) noexcept;

  JsonLineFormatter formatter_;
  std::vector<sdk::LogSink*> sinks_;
  std::string line_;
  std::atomic<std::uint64_t> written_{0};
  std::array<std::atomic<std::uint64_t>, 5> by_level_{};  // debug..critical
};

}  // namespace crosscut::logging
