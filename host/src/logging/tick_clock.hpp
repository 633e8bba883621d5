// Timestamps for the logging hot path. Reading the CPU's time-stamp counter costs about a
// third of a clock_gettime() call, so a log call stores ticks and the logging thread turns
// them into wall-clock time. Used only where the counter is invariant and the kernel itself
// keeps time with it (clocksource "tsc"); elsewhere the engine reads its clock per call.
#pragma once

#include <chrono>
#include <cstdint>

namespace crosscut::logging {

// True when ticks() is usable as a clock on this machine (checked once per process).
bool tick_clock_available() noexcept;

inline std::uint64_t ticks() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  return __builtin_ia32_rdtsc();
#else
  return 0;
#endif
}

// Converts ticks to nanoseconds since the epoch. Not thread-safe: the logging thread's.
// The rate is measured once per process; the anchor pair (ticks, wall clock) is renewed by
// resync(), so a step of the wall clock (NTP) shows in later records as it would with
// clock_gettime().
class TickConverter {
 public:
  TickConverter();
  // Takes a fresh anchor; cheap enough to call every second.
  void resync() noexcept;
  std::int64_t to_epoch_ns(std::uint64_t t) const noexcept {
    return anchor_ns_ +
           static_cast<std::int64_t>(static_cast<double>(static_cast<std::int64_t>(t - anchor_)) *
                                     ns_per_tick_);
  }

 private:
  double ns_per_tick_;
  std::uint64_t base_ = 0;  // the first pair against the steady clock, for the rate
  std::int64_t base_steady_ns_ = 0;
  std::uint64_t anchor_ = 0;
  std::int64_t anchor_ns_ = 0;
};

}  // namespace crosscut::logging
