#include "logging/asymmetric_fence.hpp"

#include <linux/membarrier.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <mutex>

namespace crosscut::logging {

std::atomic<bool> g_membarrier_ready{false};

namespace {
long membarrier(int command) noexcept {
  return ::syscall(__NR_membarrier, command, 0, 0);
}
}  // namespace

void prepare_asymmetric_fences() noexcept {
  static std::once_flag once;
  std::call_once(once, [] {
#ifndef CROSSCUT_LOGGING_TSAN  // the sanitizer could not see the barrier
    const long supported = membarrier(MEMBARRIER_CMD_QUERY);
    if (supported > 0 && (supported & MEMBARRIER_CMD_PRIVATE_EXPEDITED) &&
        membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED) == 0)
      g_membarrier_ready.store(true);
#endif
  });
}

void heavy_fence() noexcept {
  if (g_membarrier_ready.load()) {
    // Once registered, the command does not fail short of the kernel running out of memory;
    // the light side relies on it, so it is retried rather than skipped.
    while (membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) != 0) ::usleep(1000);
    return;
  }
  full_fence();
}

}  // namespace crosscut::logging
