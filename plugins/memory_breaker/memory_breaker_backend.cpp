#include "memory_breaker_backend.hpp"

#include <algorithm>
#include <bit>
#include <chrono>
#include <climits>
#include <mutex>

namespace crosscut::memory_breaker {

namespace {

// What an unknown key answers: a fresh CLOSED breaker, the operation recorded nowhere.
sdk::BreakerResult fresh_answer(sdk::BreakerOp op, const sdk::BreakerPolicy& policy,
                                std::int64_t now) {
  sdk::BreakerData fresh;
  sdk::BreakerResult r = sdk::apply(fresh, sdk::BreakerOp::state, policy, now);
  r.allowed = op == sdk::BreakerOp::acquire;
  return r;
}

}  // namespace

MemoryBreakerBackend::MemoryBreakerBackend(const MemoryBreakerOptions& options,
                                           sdk::HostContext& host)
    : MemoryBreakerBackend(host.clock(), options, &host) {}

MemoryBreakerBackend::MemoryBreakerBackend(const sdk::Clock& clock, std::size_t shards)
    : MemoryBreakerBackend(clock, MemoryBreakerOptions{.shards = shards}) {}

MemoryBreakerBackend::MemoryBreakerBackend(const sdk::Clock& clock,
                                           const MemoryBreakerOptions& options,
                                           sdk::HostContext* host)
    : clock_(clock),
      host_(host),
      max_keys_(std::max<std::size_t>(options.max_keys, 1)),
      idle_ms_(std::max<std::int64_t>(options.idle_evict_after.count(), 1)),
      shard_mask_(std::bit_ceil(options.shards == 0 ? std::size_t{1} : options.shards) - 1),
      shards_(std::make_unique<Shard[]>(shard_mask_ + 1)) {}

sdk::BreakerResult MemoryBreakerBackend::apply_op(std::string_view key, sdk::BreakerOp op,
                                                  const sdk::BreakerPolicy& policy,
                                                  std::optional<std::int64_t> now_ms,
                                                  const sdk::BreakerOpArgs& args) {
  sdk::require_valid_policy(policy);
  // Read outside the lock: keeps the critical section short; the state machine tolerates
  // concurrent callers whose clock readings arrive slightly out of order.
  const std::int64_t now =
      now_ms
          ? *now_ms
          : std::chrono::duration_cast<std::chrono::milliseconds>(clock_.now().time_since_epoch())
                .count();
  const HashedKey hashed{key, std::hash<std::string_view>{}(key)};
  Shard& shard = shard_for(hashed.hash);
  // Figures as of just before this operation; outside the shard lock.
  if (host_ != nullptr && now >= next_report_ms_.load(std::memory_order_relaxed)) [[unlikely]]
    report(now);

  {
    std::lock_guard lock(shard.lock);
    auto it = shard.breakers.find(hashed);
    Entry* e = nullptr;
    if (it != shard.breakers.end()) {
      e = &it->second;
      if (shard.newest != e) {
        unlink(shard, e);
        link_newest(shard, e);
      }
    } else if (op == sdk::BreakerOp::state || op == sdk::BreakerOp::reset) {
      return fresh_answer(op, policy, now);
    } else if (make_room(shard, now)) {
      it = shard.breakers.emplace(std::string(key), Entry{}).first;
      e = &it->second;
      e->key = &it->first;
      e->hash = hashed.hash;
      e->data.jitter_seed = sdk::jitter_seed(key);
      e->last_used_ms = now;
      link_newest(shard, e);
    }
    if (e != nullptr) {
      e->last_used_ms = std::max(e->last_used_ms, now);
      e->window_ms = std::max<std::int64_t>(e->window_ms, policy.sliding_window.count());
      if (shard.oldest != e) evict_idle(shard, now, e);
      // Returned straight from the state machine: no copy of the result on the hot path.
      return sdk::apply(e->data, op, policy, now, args);
    }
  }
  // No room, and no key could go: answered as a fresh breaker, not stored.
  sdk::BreakerResult r = fresh_answer(op, policy, now);
  r.degraded = true;
  note_refused(key, now);
  return r;
}

void MemoryBreakerBackend::unlink(Shard& shard, Entry* e) {
  (e->newer ? e->newer->older : shard.newest) = e->older;
  (e->older ? e->older->newer : shard.oldest) = e->newer;
  e->newer = e->older = nullptr;
}

void MemoryBreakerBackend::link_newest(Shard& shard, Entry* e) {
  e->older = shard.newest;
  e->newer = nullptr;
  (shard.newest ? shard.newest->newer : shard.oldest) = e;
  shard.newest = e;
}

bool MemoryBreakerBackend::removable(const Entry& e, std::int64_t now) const {
  // CLOSED holds no permits, successes or forced flag; failures, buckets and quorum
  // instances outside the window never count again. So such a breaker answers every
  // operation as a fresh one would.
  auto outside = [&](std::int64_t t) { return static_cast<__int128>(t) + e.window_ms <= now; };
  const sdk::BreakerData& d = e.data;
  return d.state == sdk::BreakerState::closed &&
         (d.failure_times.empty() || outside(d.failure_times.back())) &&
         (d.buckets.empty() || outside(d.buckets.back().start_ms)) &&
         std::all_of(d.failing_instances.begin(), d.failing_instances.end(),
                     [&](const auto& seen) { return outside(seen.second); });
}

void MemoryBreakerBackend::remove(Shard& shard, Entry* e) {
  unlink(shard, e);
  auto it = shard.breakers.find(HashedKey{*e->key, e->hash});
  shard.breakers.erase(it);
  live_.fetch_sub(1, std::memory_order_relaxed);
  evicted_.fetch_add(1, std::memory_order_relaxed);
}

void MemoryBreakerBackend::evict_idle(Shard& shard, std::int64_t now, const Entry* keep) {
  for (int i = 0; i < kIdleChecks; ++i) {
    Entry* e = shard.oldest;
    if (e == nullptr || e == keep || static_cast<__int128>(e->last_used_ms) + idle_ms_ > now)
      return;
    if (removable(*e, now)) {
      remove(shard, e);
    } else {
      // Idle but holding state that matters (OPEN, say): out of the way of the keys behind.
      unlink(shard, e);
      link_newest(shard, e);
    }
  }
}

bool MemoryBreakerBackend::evict_for_room(Shard& shard, std::int64_t now) {
  for (int i = 0; i < kRoomChecks; ++i) {
    Entry* e = shard.oldest;
    if (e == nullptr) return false;
    if (removable(*e, now)) {
      remove(shard, e);
      evicted_for_room_.fetch_add(1, std::memory_order_relaxed);
      return true;
    }
    if (e == shard.newest) return false;  // the only key
    unlink(shard, e);
    link_newest(shard, e);
  }
  return false;
}

bool MemoryBreakerBackend::reserve_key() {
  std::size_t n = live_.load(std::memory_order_relaxed);
  while (n < max_keys_)
    if (live_.compare_exchange_weak(n, n + 1, std::memory_order_relaxed)) return true;
  return false;
}

bool MemoryBreakerBackend::make_room(Shard& own, std::int64_t now) {
  // Another thread may take the room made here: try twice, then give up.
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (reserve_key()) return true;
    bool freed = evict_for_room(own, now);
    // Never wait for a second lock while holding one: a busy shard is skipped.
    const std::size_t own_index = static_cast<std::size_t>(&own - shards_.get());
    const std::size_t others = std::min(shard_mask_, kRoomShards);
    for (std::size_t k = 1; !freed && k <= others; ++k) {
      Shard& other = shards_[(own_index + k) & shard_mask_];
      if (!other.lock.try_lock()) continue;
      freed = evict_for_room(other, now);
      other.lock.unlock();
    }
    if (!freed) return false;
  }
  return reserve_key();
}

void MemoryBreakerBackend::note_refused(std::string_view key, std::int64_t now) {
  refused_.fetch_add(1, std::memory_order_relaxed);
  if (host_ == nullptr) return;
  std::int64_t due = next_refused_log_ms_.load(std::memory_order_relaxed);
  if (now < due || !next_refused_log_ms_.compare_exchange_strong(due, now + 60'000)) return;
  std::uint64_t refused;
  {
    std::lock_guard lock(report_mu_);
    const std::uint64_t total = refused_.load(std::memory_order_relaxed);
    refused = total - refused_logged_;
    refused_logged_ = total;
  }
  host_->logger("breaker").warning(
      "breaker store full: operations on new keys are answered as a fresh CLOSED breaker and "
      "not stored (at most one line a minute)",
      {{"max_keys", max_keys_}, {"refused", refused}, {"key", std::string(key.substr(0, 128))}});
}

void MemoryBreakerBackend::report(std::int64_t now) {
  std::int64_t due = next_report_ms_.load(std::memory_order_relaxed);
  if (now < due || !next_report_ms_.compare_exchange_strong(due, now + 1000)) return;
  std::lock_guard lock(report_mu_);
  const MemoryBreakerStats s = stats();
  auto add = [this](const char* name, std::int64_t delta) {
    if (delta != 0) host_->add_metric(name, delta);
  };
  add("memory_breaker.keys_live",
      static_cast<std::int64_t>(s.keys_live) - static_cast<std::int64_t>(reported_.keys_live));
  add("memory_breaker.keys_evicted",
      static_cast<std::int64_t>(s.keys_evicted - reported_.keys_evicted));
  add("memory_breaker.keys_refused",
      static_cast<std::int64_t>(s.keys_refused - reported_.keys_refused));
  reported_ = s;
}

std::vector<std::string> MemoryBreakerBackend::keys() {
  std::vector<std::string> out;
  for (std::size_t i = 0; i <= shard_mask_; ++i) {
    std::lock_guard lock(shards_[i].lock);
    for (const auto& entry : shards_[i].breakers) out.push_back(entry.first);
  }
  return out;
}

MemoryBreakerStats MemoryBreakerBackend::stats() const {
  MemoryBreakerStats s;
  s.keys_live = live_.load(std::memory_order_relaxed);
  s.keys_evicted = evicted_.load(std::memory_order_relaxed);
  s.keys_evicted_for_room = evicted_for_room_.load(std::memory_order_relaxed);
  s.keys_refused = refused_.load(std::memory_order_relaxed);
  return s;
}

}  // namespace crosscut::memory_breaker
