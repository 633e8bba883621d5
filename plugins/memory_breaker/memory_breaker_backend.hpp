// The in-process breaker backend (`breakers.backend.type: memory`): the breaker state machine
// per key, held in this process only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "crosscut/sdk/breaker.hpp"
#include "crosscut/sdk/breaker_state_machine.hpp"
#include "crosscut/sdk/host_context.hpp"
#include "memory_breaker_options.hpp"
#include "spin_lock.hpp"

namespace crosscut::memory_breaker {

// Thread-safety: apply() and keys() may be called from any number of threads. Keys are spread
// over independently locked shards (no lock shared by every key), and each apply() runs under
// its key's shard lock, so operations on one key never interleave.
//
// Keys are created by their first acquire/success/failure/force_open and kept for the
// backend's lifetime; `state` and `reset` on an unknown key answer for a fresh CLOSED breaker
// without creating it.
//
// Errors: apply() throws std::invalid_argument for a policy check_policy() rejects.
class MemoryBreakerBackend final : public sdk::BreakerBackend {
 public:
  static const sdk::OptionTable<MemoryBreakerOptions>& options_table() {
    return memory_breaker_options_table();
  }

  MemoryBreakerBackend(const MemoryBreakerOptions& options, sdk::HostContext& host);
  // `clock` answers operations called without a time; it must outlive the backend.
  // `shards` is rounded up to a power of two.
  explicit MemoryBreakerBackend(const sdk::Clock& clock,
                                std::size_t shards = MemoryBreakerOptions{}.shards);

  sdk::BreakerResult apply(std::string_view key, sdk::BreakerOp op,
                           const sdk::BreakerPolicy& policy,
                           std::optional<std::int64_t> now_ms) override;
  std::vector<std::string> keys() override;

  std::size_t shard_count() const { return shard_mask_ + 1; }

 private:
  // A key with its hash computed once: it picks the shard and is reused by the map lookup.
  struct HashedKey {
    std::string_view text;
    std::size_t hash;
  };
  struct KeyHash {
    using is_transparent = void;
    std::size_t operator()(const HashedKey& k) const noexcept { return k.hash; }
    std::size_t operator()(const std::string& k) const noexcept {
      return std::hash<std::string_view>{}(k);
    }
  };
  struct KeyEqual {
    using is_transparent = void;
    bool operator()(const std::string& a, const std::string& b) const noexcept { return a == b; }
    bool operator()(const HashedKey& a, const std::string& b) const noexcept { return a.text == b; }
    bool operator()(const std::string& a, const HashedKey& b) const noexcept { return a == b.text; }
  };
  struct alignas(64) Shard {
    SpinLock lock;
    std::unordered_map<std::string, sdk::BreakerData, KeyHash, KeyEqual> breakers;
  };

  Shard& shard_for(std::size_t hash) {
    // The map buckets by the hash modulo a prime; take the shard from the high bits.
    return shards_[((hash >> 32) ^ (hash >> 16)) & shard_mask_];
  }

  const sdk::Clock& clock_;
  std::size_t shard_mask_;
  std::unique_ptr<Shard[]> shards_;
};

}  // namespace crosscut::memory_breaker
