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
    const long supported = membarrier(MEMBARRIER_CMD_QUERY);
    if (supported > 0 && (supported & MEMBARRIER_CMD_PRIVATE_EXPEDITED) &&
        membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED) == 0)
      g_membarrier_ready.store(true);
  });
}

void heavy_fence() noexcept {
  if (g_membarrier_ready.load() && membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) == 0) return;
  std::atomic_thread_fence(std::memory_order_seq_cst);
}

}  // namespace crosscut::logging
