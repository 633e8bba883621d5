// Small synchronisation helpers for the bus tests: a gate a handler can wait at, and
// event types of our own.
#pragma once

#include <condition_variable>
#include <mutex>
#include <string_view>

#include "crosscut/sdk/config.hpp"
#include "crosscut/sdk/value.hpp"

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

inline sdk::ConfigNode scalar(std::string text, int line, int column) {
  sdk::ConfigNode n;
  n.kind = sdk::ConfigNode::Kind::scalar;
  n.scalar = std::move(text);
  n.mark = {line, column};
  return n;
}

inline sdk::ConfigNode map(std::vector<std::pair<std::string, sdk::ConfigNode>> entries, int line,
                           int column) {
  sdk::ConfigNode n;
  n.kind = sdk::ConfigNode::Kind::map;
  n.entries = std::move(entries);
  n.mark = {line, column};
  return n;
}

inline sdk::ConfigNode sequence(std::vector<sdk::ConfigNode> items, int line, int column) {
  sdk::ConfigNode n;
  n.kind = sdk::ConfigNode::Kind::sequence;
  n.items = std::move(items);
  n.mark = {line, column};
  return n;
}

}  // namespace crosscut::bus_test
