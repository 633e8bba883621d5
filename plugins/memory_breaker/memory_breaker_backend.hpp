// The in-process breaker backend (`breakers.backend.type: memory`): the breaker state machine
// per key, held in this process only.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
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

// What the key store holds and has done, since the backend was made.
struct MemoryBreakerStats {
  std::size_t keys_live = 0;                // keys held now (at most max_keys)
  std::uint64_t keys_evicted = 0;           // keys removed, idle or to make room (lost nothing)
  std::uint64_t keys_evicted_for_room = 0;  // of keys_evicted: to make room for a new key
  // Operations on a new key that could not be stored (max_keys reached, no key could go):
  // each was answered as a fresh CLOSED breaker, with `degraded` set.
  std::uint64_t keys_refused = 0;
};

// Thread-safety: apply(), keys() and stats() may be called from any number of threads. Keys
// are spread over independently locked shards (no lock shared by every key), and each apply()
// runs under its key's shard lock, so operations on one key never interleave.
//
// Keys are created by their first acquire/success/failure/force_open/open_until; `state` and
// `reset` on an unknown key answer for a fresh CLOSED breaker without creating it. A key may be
// removed only when it is CLOSED with no failure inside its sliding window (the longest window its
// operations named): such a breaker is indistinguishable from a fresh one, so removing it
// loses nothing. OPEN and HALF_OPEN breakers (forced ones included) and CLOSED ones still
// counting failures are never removed. A removable key goes after `idle_evict_after` without
// an operation (found by the operations on its shard, which look at the shard's least
// recently used keys), or earlier to make room when `max_keys` is reached: the least recently
// used removable key of the new key's shard goes, else of one of the next shards whose lock is
// free. When no key can go, the operation is answered as a fresh CLOSED breaker would answer
// it, the key is not stored, `degraded` is set, and this is counted (keys_refused) and logged
// at most once a minute.
//
// With a HostContext, the figures of stats() are also added to the host's metrics
// ("memory_breaker.keys_live", "memory_breaker.keys_evicted", "memory_breaker.keys_refused"),
// at most once a second of operation time.
//
// Errors: apply() throws std::invalid_argument for a policy check_policy() rejects.
class MemoryBreakerBackend final : public sdk::BreakerBackend {
 public:
  static const sdk::OptionTable<MemoryBreakerOptions>& options_table() {
    return memory_breaker_options_table();
  }

  MemoryBreakerBackend(const MemoryBreakerOptions& options, sdk::HostContext& host);
  // `clock` answers operations called without a time; it must outlive the backend, as must
  // `host` when given. `shards` is rounded up to a power of two.
  MemoryBreakerBackend(const sdk::Clock& clock, const MemoryBreakerOptions& options,
                       sdk::HostContext* host = nullptr);
  explicit MemoryBreakerBackend(const sdk::Clock& clock,
                                std::size_t shards = MemoryBreakerOptions{}.shards);

  std::vector<std::string> keys() override;

  MemoryBreakerStats stats() const;
  std::size_t shard_count() const { return shard_mask_ + 1; }

 protected:
  sdk::BreakerResult apply_op(std::string_view key, sdk::BreakerOp op,
                              const sdk::BreakerPolicy& policy, std::optional<std::int64_t> now_ms,
                              const sdk::BreakerOpArgs& args) override;

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
  // One key's breaker and its place in the shard's recency list (newest first).
  struct Entry {
    sdk::BreakerData data;
    std::int64_t last_used_ms = 0;  // the latest operation time seen
    std::int64_t window_ms = 0;     // the longest sliding window its operations named
    std::size_t hash = 0;
    const std::string* key = nullptr;  // the map's own copy
    Entry* newer = nullptr;
    Entry* older = nullptr;
  };
  struct alignas(64) Shard {
    SpinLock lock;
    std::unordered_map<std::string, Entry, KeyHash, KeyEqual> breakers;
    Entry* newest = nullptr;
    Entry* oldest = nullptr;
  };

  // Keys an operation looks at for idleness, and for room, and other shards it tries.
  static constexpr int kIdleChecks = 2;
  static constexpr int kRoomChecks = 16;
  static constexpr std::size_t kRoomShards = 8;

  Shard& shard_for(std::size_t hash) {
    // The map buckets by the hash modulo a prime; take the shard from the high bits.
    return shards_[((hash >> 32) ^ (hash >> 16)) & shard_mask_];
  }
  static void unlink(Shard& shard, Entry* e);
  static void link_newest(Shard& shard, Entry* e);
  bool removable(const Entry& e, std::int64_t now) const;
  void remove(Shard& shard, Entry* e);
  void evict_idle(Shard& shard, std::int64_t now, const Entry* keep);
  bool evict_for_room(Shard& shard, std::int64_t now);
  bool reserve_key();
  bool make_room(Shard& own, std::int64_t now);
  void note_refused(std::string_view key, std::int64_t now);
  void report(std::int64_t now);

  const sdk::Clock& clock_;
  sdk::HostContext* const host_;
  const std::size_t max_keys_;
  const std::int64_t idle_ms_;
  std::size_t shard_mask_;
  std::unique_ptr<Shard[]> shards_;

  std::atomic<std::size_t> live_{0};
  std::atomic<std::uint64_t> evicted_{0};
  std::atomic<std::uint64_t> evicted_for_room_{0};
  std::atomic<std::uint64_t> refused_{0};

  std::atomic<std::int64_t> next_report_ms_{INT64_MIN};
  std::atomic<std::int64_t> next_refused_log_ms_{INT64_MIN};
  std::mutex report_mu_;              // one report at a time
  MemoryBreakerStats reported_;       // what the host was told, under report_mu_
  std::uint64_t refused_logged_ = 0;  // under report_mu_
};

}  // namespace crosscut::memory_breaker
