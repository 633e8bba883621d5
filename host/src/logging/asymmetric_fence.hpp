// A Dekker handshake whose one side runs on every log call and the other only at shutdown.
// With membarrier(2), the frequent side needs no fence instruction at all (a compiler
// barrier), and the rare side makes every thread of the process execute a full barrier;
// where membarrier is not available (an old kernel, a seccomp filter) both sides use a
// full fence, which is always correct.
#pragma once

#include <atomic>

#if defined(__SANITIZE_THREAD__)
#define CROSSCUT_LOGGING_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define CROSSCUT_LOGGING_TSAN 1
#endif
#endif

namespace crosscut::logging {

// A full fence. ThreadSanitizer neither models fences nor sees membarrier, so its builds use
// a sequentially consistent read-modify-write of one shared word on both sides instead.
inline void full_fence() noexcept {
#ifdef CROSSCUT_LOGGING_TSAN
  static std::atomic<int> word{0};
  word.fetch_add(0, std::memory_order_seq_cst);
#else
  std::atomic_thread_fence(std::memory_order_seq_cst);
#endif
}

// True once membarrier's private expedited command is registered for this process.
extern std::atomic<bool> g_membarrier_ready;

// Registers membarrier for the process (once); later calls are cheap.
void prepare_asymmetric_fences() noexcept;

// The frequent side: orders this thread's earlier stores before its later loads.
inline void light_fence() noexcept {
  if (g_membarrier_ready.load(std::memory_order_relaxed))
    std::atomic_signal_fence(std::memory_order_seq_cst);
  else
    full_fence();
}

// The rare side: after it returns, every other thread's light_fence() has taken effect.
void heavy_fence() noexcept;

}  // namespace crosscut::logging
