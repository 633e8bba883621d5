#include "memory_breaker_backend.hpp"

#include <bit>
#include <chrono>
#include <mutex>

namespace crosscut::memory_breaker {

MemoryBreakerBackend::MemoryBreakerBackend(const MemoryBreakerOptions& options,
                                           sdk::HostContext& host)
    : MemoryBreakerBackend(host.clock(), options.shards) {}

MemoryBreakerBackend::MemoryBreakerBackend(const sdk::Clock& clock, std::size_t shards)
    : clock_(clock),
      shard_mask_(std::bit_ceil(shards == 0 ? std::size_t{1} : shards) - 1),
      shards_(std::make_unique<Shard[]>(shard_mask_ + 1)) {}

sdk::BreakerResult MemoryBreakerBackend::apply(std::string_view key, sdk::BreakerOp op,
                                               const sdk::BreakerPolicy& policy,
                                               std::optional<std::int64_t> now_ms) {
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

  std::lock_guard lock(shard.lock);
  auto it = shard.breakers.find(hashed);
  if (it == shard.breakers.end()) {
    if (op == sdk::BreakerOp::state || op == sdk::BreakerOp::reset) {
      sdk::BreakerData fresh;
      return sdk::apply(fresh, op, policy, now);
    }
    it = shard.breakers.emplace(std::string(key), sdk::BreakerData{}).first;
  }
  return sdk::apply(it->second, op, policy, now);
}

std::vector<std::string> MemoryBreakerBackend::keys() {
  std::vector<std::string> out;
  for (std::size_t i = 0; i <= shard_mask_; ++i) {
    std::lock_guard lock(shards_[i].lock);
    for (const auto& entry : shards_[i].breakers) out.push_back(entry.first);
  }
  return out;
}

}  // namespace crosscut::memory_breaker
