// A Dekker handshake whose one side runs on every log call and the other only at shutdown.
// With membarrier(2), the frequent side needs no fence instruction at all (a compiler
// barrier), and the rare side makes every thread of the process execute a full barrier;
// where membarrier is not available (an old kernel, a seccomp filter) both sides use a
// full fence, which is always correct.
#pragma once

#include <atomic>

namespace crosscut::logging {

// True once membarrier's private expedited command is registered for this process.
extern std::atomic<bool> g_membarrier_ready;

// Registers membarrier for the process (once); later calls are cheap.
void prepare_asymmetric_fences() noexcept;

// The frequent side: orders this thread's earlier stores before its later loads.
inline void light_fence() noexcept {
  if (g_membarrier_ready.load(std::memory_order_relaxed))
    std::atomic_signal_fence(std::memory_order_seq_cst);
  else
    std::atomic_thread_fence(std::memory_order_seq_cst);
}

// The rare side: after it returns, every other thread's light_fence() has taken effect.
void heavy_fence() noexcept;

}  // namespace crosscut::logging
