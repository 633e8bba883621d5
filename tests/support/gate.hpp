// A gate test code waits at until the test opens it; wait_until_entered() tells the test
// that n waiters have arrived (a handler, a sink's write on the logging thread, ...).
#pragma once

#include <condition_variable>
#include <mutex>

namespace crosscut::testing {

class Gate {
 public:
  void wait() {
    std::unique_lock lock(mu_);
    ++waiting_;
    cv_.notify_all();
    cv_.wait(lock, [&] { return open_; });
  }
  void wait_until_entered(int n = 1) {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return waiting_ >= n; });
  }
  void open() {
    std::lock_guard lock(mu_);
    open_ = true;
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int waiting_ = 0;
  bool open_ = false;
};

}  // namespace crosscut::testing
