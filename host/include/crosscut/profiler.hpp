// crosscut::Profiler: times a scope and reports it.
//
//   { crosscut::Profiler p(log, "expensive_operation"); ... }
//   -> "expensive_operation took 1.23s, memory: +5.4MB"
//      extra: {"operation", "duration_ms", "rss_delta_bytes", "rss_bytes"}
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "crosscut/export.hpp"
#include "crosscut/logger.hpp"
#include "crosscut/sdk/bus.hpp"

namespace crosscut {

// Resident set size of this process in bytes (from /proc/self/statm), or 0 when unknown.
std::int64_t current_rss_bytes() noexcept;

// RAII: measures wall time (steady clock) and RSS from construction to destruction, then
// logs one INFO record and, when a bus is given, emits an sdk::ProfileSample on it.
// The logger and bus must outlive the profiler. Not thread-safe (a scope belongs to a thread).
class CROSSCUT_API Profiler {
 public:
  Profiler(Logger log, std::string operation);
  Profiler(Logger log, std::string operation, sdk::EventBus* bus);
  Profiler(const Profiler&) = delete;
  Profiler& operator=(const Profiler&) = delete;
  ~Profiler();

  // The summary line as it is logged, e.g. "load took 1.23s, memory: +5.4MB".
  static std::string summary(std::string_view operation, std::chrono::nanoseconds duration,
                             std::int64_t rss_delta_bytes);

 private:
  Logger log_;
  std::string operation_;
  sdk::EventBus* bus_ = nullptr;
  std::chrono::steady_clock::time_point start_;
  std::int64_t rss_start_ = 0;
};

}  // namespace crosscut
