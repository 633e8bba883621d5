#include "memory_breaker_options.hpp"

namespace crosscut::memory_breaker {

const sdk::OptionTable<MemoryBreakerOptions>& memory_breaker_options_table() {
  static const sdk::OptionTable<MemoryBreakerOptions> table{
      sdk::bind_option(
          "shards", &MemoryBreakerOptions::shards,
          "independently locked partitions of the key space (rounded up to a power of two)")
          .min(1)
          .max(65536),
      sdk::bind_option("max_keys", &MemoryBreakerOptions::max_keys,
                       "keys held at most; beyond, the least recently used key that loses "
                       "nothing by going makes room, else the new key is not stored")
          .min(1)
          .max(100'000'000),
      sdk::bind_option("idle_evict_after", &MemoryBreakerOptions::idle_evict_after,
                       "a CLOSED key with no failure in its window is removed after this long "
                       "without an operation")
          .positive(),
  };
  return table;
}

}  // namespace crosscut::memory_breaker
