// Small synchronisation helpers for the bus tests: a gate a handler can wait at, and
// event types of our own.
#pragma once

#include <condition_variable>
#include <mutex>
#include <string_view>

#include "crosscut/sdk/config.hpp"
#include "crosscut/sdk/value.hpp"
#include "support/config_nodes.hpp"

namespace crosscut::bus_test {

// Handlers wait at a closed gate until the test opens it; entered() tells the test a handler
// is waiting there.
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

struct Tick {
  static constexpr std::string_view name = "tick";
  int emitter = 0;
  int seq = 0;
};

struct Tock {
  static constexpr std::string_view name = "tock";
  int value = 0;
};

using testing::map;
using testing::scalar;
using testing::sequence;

}  // namespace crosscut::bus_test
