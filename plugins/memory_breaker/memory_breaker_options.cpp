#include "memory_breaker_options.hpp"

namespace crosscut::memory_breaker {

const sdk::OptionTable<MemoryBreakerOptions>& memory_breaker_options_table() {
  static const sdk::OptionTable<MemoryBreakerOptions> table{
      sdk::bind_option(
          "shards", &MemoryBreakerOptions::shards,
          "independently locked partitions of the key space (rounded up to a power of two)")
          .min(1)
          .max(65536),
  };
  return table;
}

}  // namespace crosscut::memory_breaker
