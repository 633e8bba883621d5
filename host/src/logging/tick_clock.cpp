#include "logging/tick_clock.hpp"

#include <fstream>
#include <string>

namespace crosscut::logging {
namespace {

std::int64_t wall_ns() noexcept {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::int64_t steady_ns() noexcept {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

bool kernel_uses_tsc() noexcept {
  try {
    std::ifstream in("/sys/devices/system/clocksource/clocksource0/current_clocksource");
    std::string name;
    return static_cast<bool>(in >> name) && name == "tsc";
  } catch (...) {
    return false;
  }
}

// A (ticks, clock) pair taken as close together as the machine allows: the read with the
// fewest ticks between the counter reads around it, of a few tries.
template <class Clock>
void pair_now(std::uint64_t& t, std::int64_t& ns, Clock clock) noexcept {
  std::uint64_t best = UINT64_MAX;
  for (int i = 0; i < 5; ++i) {
    const std::uint64_t a = ticks();
    const std::int64_t c = clock();
    const std::uint64_t b = ticks();
    if (b - a < best) {
      best = b - a;
      t = a + (b - a) / 2;
      ns = c;
    }
  }
}

// Measured once: 2 ms of the steady clock against the counter.
double measured_ns_per_tick() noexcept {
  static const double rate = [] {
    std::uint64_t t0 = 0, t1 = 0;
    std::int64_t n0 = 0, n1 = 0;
    pair_now(t0, n0, steady_ns);
    do pair_now(t1, n1, steady_ns);
    while (n1 - n0 < 2'000'000);
    return t1 > t0 ? static_cast<double>(n1 - n0) / static_cast<double>(t1 - t0) : 1.0;
  }();
  return rate;
}

}  // namespace

bool tick_clock_available() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  static const bool available = kernel_uses_tsc();
  return available;
#else
  return false;
#endif
}

TickConverter::TickConverter() : ns_per_tick_(measured_ns_per_tick()) {
  pair_now(base_, base_steady_ns_, steady_ns);
  resync();
}

void TickConverter::resync() noexcept {
  // The longer the baseline, the better the rate: refine it from the first pair.
  std::uint64_t t = 0;
  std::int64_t steady = 0;
  pair_now(t, steady, steady_ns);
  if (steady - base_steady_ns_ > 1'000'000'000 && t > base_)
    ns_per_tick_ = static_cast<double>(steady - base_steady_ns_) / static_cast<double>(t - base_);
  pair_now(anchor_, anchor_ns_, wall_ns);
}

}  // namespace crosscut::logging
