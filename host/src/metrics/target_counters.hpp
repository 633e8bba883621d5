// Counters of targets that come and go: the ones named by input the runtime does not control
// (the agent's events), as opposed to the few counters an application holds for its lifetime.
//
// Each target has a small entry: its symbols and its counts per minute not yet collected. The
// entry is created by the target's first count and released by a collection pass that finds
// it drained (every minute it counted has been collected) and idle (no count since the cutoff
// the pass is given). A target that comes back after its release gets a fresh entry. Because
// a release happens under the same lock as every count into the entry, no count can arrive
// between the check and the release: nothing is lost.
//
// An entry may forward to a retained counter of the same target (one obtained with
// MetricsService::counter()), so that a target counted both ways counts in one counter (what
// the entry held before it started forwarding is still collected from it). Retained counters
// outlive this table, so forwarding needs no ownership.
//
// Thread-safety: count() and add() may be called from any number of threads at once. Targets
// are spread over independently locked shards by hash; a count holds its target's shard lock
// for a hash lookup and an addition. collect() (one caller at a time) holds each shard's lock
// in turn while it takes that shard's due minutes. retain() may be called from any thread.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "crosscut/counter.hpp"
#include "crosscut/sdk/events.hpp"
#include "metrics/counter_state.hpp"
#include "metrics/minute_batch.hpp"

namespace crosscut::metrics {

// A symbol ready to be counted: its detail key ("BTC_COUNT"), or empty for the total only,
// and what had to be changed to make it.
struct PreparedSymbol {
  std::string key;
  bool truncated = false;
  bool invalid_utf8 = false;
};

// Cuts the symbol to kMaxSymbolBytes and turns it into its detail key, as the retained
// counters do. Allocation-free for short keys (small-string storage).
PreparedSymbol prepare_symbol(std::string_view symbol);

// True when every field of `target` fits in kMaxTargetFieldBytes.
bool target_fits(const sdk::Target& target) noexcept;

class TargetCounters {
 public:
  // What count() did: counted into the target's entry (`found`, no `forward`), or found that
  // the target's counts go to the retained counter `forward` (the caller counts there), or
  // found no entry (the caller looks for a retained counter and calls add()).
  struct Counted {
    bool found = false;
    MinuteBatchCounter* forward = nullptr;
  };

  struct Stats {
    std::size_t live = 0;          // entries held now
    std::uint64_t created = 0;     // entries created so far
    std::uint64_t released = 0;    // entries released so far
    std::uint64_t over_limit = 0;  // symbols counted in the total only (kMaxSymbols reached)
  };

  TargetCounters();
  ~TargetCounters();
  TargetCounters(const TargetCounters&) = delete;
  TargetCounters& operator=(const TargetCounters&) = delete;

  // One message of `target` in `minute` (epoch seconds), counted at `now_ns` (the clock, for
  // idleness). Precondition: target_fits(target).
  Counted count(const sdk::Target& target, const PreparedSymbol& symbol, std::int64_t minute,
                std::int64_t now_ns);

  // Creates the target's entry (unless another thread just did) forwarding to `retained`
  // when it is not null, then counts as count() does.
  Counted add(const sdk::Target& target, MinuteBatchCounter* retained, const PreparedSymbol& symbol,
              std::int64_t minute, std::int64_t now_ns);

  // From now on, counts of `target` go to `retained` (a counter just created for it).
  void retain(const sdk::Target& target, MinuteBatchCounter* retained);

  // Takes the counts of every due minute (see CollectWindow), one batch per target with any,
  // and releases each entry left with no count and no count since `idle_cutoff_ns`. Shard by
  // shard: each shard's batches are handed to `emit` after its lock is released. Returns the
  // number released.
  std::size_t collect(const CollectWindow& window, std::int64_t idle_cutoff_ns,
                      const std::function<void(const MinuteBatch&)>& emit);

  Stats stats() const;

 private:
  struct MinuteCounts {
    std::uint64_t total = 0;
    std::vector<std::uint64_t> by_symbol;  // by symbol id
  };
  struct Entry {
    MinuteBatchCounter* retained = nullptr;
    std::int64_t last_count_ns = 0;
    std::unordered_map<std::string, std::uint32_t> symbol_ids;  // detail key -> id
    std::vector<const std::string*> symbol_keys;                // id -> detail key (in the map)
    std::map<std::int64_t, MinuteCounts> minutes;               // not yet collected
  };
  // The entry's key: each field preceded by its length (fields are at most 255 bytes), so no
  // two targets share a key whatever bytes their fields hold.
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
    std::mutex mu;
    std::unordered_map<std::string, Entry, KeyHash, KeyEqual> entries;
  };
  static constexpr std::size_t kShards = 64;
  static_assert(kMaxTargetFieldBytes <= 255, "a field's length is stored in one byte");
  static constexpr std::size_t kKeyCapacity = 3 * (1 + kMaxTargetFieldBytes);

  // Writes the key of `target` into `buffer`. Precondition: target_fits(target).
  static HashedKey key_of(const sdk::Target& target, std::array<char, kKeyCapacity>& buffer);
  static sdk::Target target_of(std::string_view key);
  Shard& shard_for(std::size_t hash) { return shards_[((hash >> 32) ^ (hash >> 16)) % kShards]; }
  Counted count_in(Entry& entry, const PreparedSymbol& symbol, std::int64_t minute,
                   std::int64_t now_ns);
  static void collect_shard(Shard& shard, const CollectWindow& window, std::int64_t idle_cutoff_ns,
                            std::vector<MinuteBatch>& out, std::size_t& released);

  std::unique_ptr<Shard[]> shards_;
  std::atomic<std::size_t> live_{0};
  std::atomic<std::uint64_t> created_{0};
  std::atomic<std::uint64_t> released_{0};
  std::atomic<std::uint64_t> over_limit_{0};
};

}  // namespace crosscut::metrics
