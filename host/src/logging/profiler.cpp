#include "crosscut/profiler.hpp"

#include <unistd.h>

#include <cmath>
#include <cstdio>

#include "crosscut/sdk/events.hpp"

namespace crosscut {

std::int64_t current_rss_bytes() noexcept {
  // statm: size resident shared text lib data dt (pages). Read with stdio: no allocation.
  std::FILE* f = std::fopen("/proc/self/statm", "re");
  if (!f) return 0;
  long size = 0, resident = 0;
  const int n = std::fscanf(f, "%ld %ld", &size, &resident);
  std::fclose(f);
  if (n != 2) return 0;
  return static_cast<std::int64_t>(resident) * static_cast<std::int64_t>(sysconf(_SC_PAGESIZE));
}

Profiler::Profiler(Logger log, std::string operation)
    : Profiler(log, std::move(operation), nullptr) {}

Profiler::Profiler(Logger log, std::string operation, sdk::EventBus* bus)
    : log_(log), operation_(std::move(operation)), bus_(bus) {
  rss_start_ = current_rss_bytes();
  start_ = std::chrono::steady_clock::now();
}

std::string Profiler::summary(std::string_view operation, std::chrono::nanoseconds duration,
                              std::int64_t rss_delta_bytes) {
  const double seconds = std::chrono::duration<double>(duration).count();
  const double mb = static_cast<double>(rss_delta_bytes) / (1024.0 * 1024.0);
  char tail[96];
  std::snprintf(tail, sizeof tail, " took %.2fs, memory: %c%.1fMB", seconds, mb < 0 ? '-' : '+',
                std::fabs(mb));
  return std::string(operation) + tail;
}

Profiler::~Profiler() {
  const auto duration = std::chrono::steady_clock::now() - start_;
  const std::int64_t rss = current_rss_bytes();
  const std::int64_t delta = rss - rss_start_;
  try {
    if (log_.enabled(sdk::Level::info)) {
      const double ms = std::chrono::duration<double, std::milli>(duration).count();
      log_.info(summary(operation_, duration, delta), {{"operation", operation_},
                                                       {"duration_ms", ms},
                                                       {"rss_delta_bytes", delta},
                                                       {"rss_bytes", rss}});
    }
    if (bus_) bus_->emit(sdk::ProfileSample{operation_, duration, delta, rss});
  } catch (...) {
    // A destructor must not throw; a lost profile sample is not worth terminating for.
  }
}

}  // namespace crosscut
