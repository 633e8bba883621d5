// Holds back duplicate errors inside their suppress_for period and hands back the latest of
// each period, with how many others it stands for, when the period ends.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <limits>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "errors/error_dto.hpp"

namespace crosscut {

// Thread-safe. Accounting: every offered error is either published at once (offer() returns
// true), or held; each held error is either replaced by a later one of its key (and counted
// in that one's `duplicates`) or returned by expired()/take_all() once.
class DuplicateSuppressor {
 public:
  using Clock = std::chrono::system_clock;

  struct Held {
    ErrorRecord record;
    std::uint64_t duplicates = 0;  // others suppressed since the last published one of the key
  };

  // true: publish `record` now (it opens a new period for its key); false: it is held.
  // An ended period of the same key is handed back through `ended` first.
  bool offer(const std::string& key, ErrorRecord& record, Clock::time_point now,
             std::chrono::milliseconds period, std::optional<Held>& ended);

  // Held errors whose period ended at or before `now`; ended periods are forgotten.
  std::vector<Held> expired(Clock::time_point now);
  // Cheap test for whether expired() could return anything at `now`.
  bool maybe_expired(Clock::time_point now) const {
    return now.time_since_epoch().count() >= next_deadline_.load(std::memory_order_relaxed);
  }
  // Every held error, periods ended or not.
  std::vector<Held> take_all();

 private:
  struct Window {
    Clock::time_point until;
    std::optional<ErrorRecord> latest;
    std::uint64_t held = 0;
  };
  static Held release(Window& w);
  void lower_deadline(Clock::time_point t);

  mutable std::mutex mu_;
  std::unordered_map<std::string, Window> windows_;
  std::atomic<Clock::rep> next_deadline_{std::numeric_limits<Clock::rep>::max()};
};

}  // namespace crosscut
