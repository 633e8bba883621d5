// A test-and-test-and-set spin lock for critical sections of a few dozen nanoseconds.
#pragma once

#include <atomic>
#include <thread>

namespace crosscut::memory_breaker {

// Uncontended, lock+unlock is one atomic exchange and one release store (a std::mutex is two
// read-modify-writes). Under contention it spins on a plain load, then yields, so a holder
// preempted on an oversubscribed machine is not starved. Meets BasicLockable.
class SpinLock {
 public:
  void lock() noexcept {
    for (unsigned spins = 0; locked_.exchange(true, std::memory_order_acquire);) {
      while (locked_.load(std::memory_order_relaxed)) {
        if (++spins < 64) {
#if defined(__x86_64__) || defined(__i386__)
          __builtin_ia32_pause();
#endif
        } else {
          std::this_thread::yield();
        }
      }
    }
  }
  bool try_lock() noexcept {
    return !locked_.load(std::memory_order_relaxed) &&
           !locked_.exchange(true, std::memory_order_acquire);
  }
  void unlock() noexcept {
    locked_.store(false, std::memory_order_release);
  }

 private:
  std::atomic<bool> locked_{false};
};

}  // namespace crosscut::memory_breaker
