#include "errors/duplicate_suppressor.hpp"

#include <limits>

namespace crosscut {

DuplicateSuppressor::Held DuplicateSuppressor::release(Window& w) {
  Held h{std::move(*w.latest), w.held - 1};
  w.latest.reset();
  w.held = 0;
  return h;
}

void DuplicateSuppressor::lower_deadline(Clock::time_point t) {
  const auto v = t.time_since_epoch().count();
  auto current = next_deadline_.load(std::memory_order_relaxed);
  while (v < current && !next_deadline_.compare_exchange_weak(current, v)) {
  }
}

bool DuplicateSuppressor::offer(const std::string& key, ErrorRecord& record, Clock::time_point now,
                                std::chrono::milliseconds period, std::optional<Held>& ended) {
  std::lock_guard lock(mu_);
  auto [it, fresh] = windows_.try_emplace(key);
  Window& w = it->second;
  if (!fresh && now < w.until) {
    w.latest = std::move(record);
    ++w.held;
    return false;
  }
  if (!fresh && w.latest) ended = release(w);
  w.until = now + period;
  lower_deadline(w.until);
  return true;
}

std::vector<DuplicateSuppressor::Held> DuplicateSuppressor::expired(Clock::time_point now) {
  std::vector<Held> out;
  std::lock_guard lock(mu_);
  auto next = std::numeric_limits<Clock::rep>::max();
  for (auto it = windows_.begin(); it != windows_.end();) {
    if (now >= it->second.until) {
      if (it->second.latest) out.push_back(release(it->second));
      it = windows_.erase(it);
    } else {
      next = std::min(next, it->second.until.time_since_epoch().count());
      ++it;
    }
  }
  next_deadline_.store(next, std::memory_order_relaxed);
  return out;
}

std::vector<DuplicateSuppressor::Held> DuplicateSuppressor::take_all() {
  std::vector<Held> out;
  std::lock_guard lock(mu_);
  for (auto& [key, w] : windows_)
    if (w.latest) out.push_back(release(w));
  windows_.clear();
  next_deadline_.store(std::numeric_limits<Clock::rep>::max(), std::memory_order_relaxed);
  return out;
}

}  // namespace crosscut
