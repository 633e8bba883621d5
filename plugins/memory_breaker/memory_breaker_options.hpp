// The options of breaker backend `memory`, declared once: the struct (defaults) and its table.
#pragma once

#include <chrono>
#include <cstddef>

#include "crosscut/sdk/options.hpp"

namespace crosscut::memory_breaker {

struct MemoryBreakerOptions {
  std::size_t shards = 64;  // rounded up to a power of two
  // Keys held at most. A new key beyond it takes the place of the least recently used key
  // that can go without losing anything; when none can, it is answered as a fresh CLOSED
  // breaker and not stored.
  std::size_t max_keys = 100'000;
  // A key that lost nothing by going (CLOSED, no failure in its window) and has seen no
  // operation for this long is removed.
  std::chrono::milliseconds idle_evict_after = std::chrono::minutes(10);
};

const sdk::OptionTable<MemoryBreakerOptions>& memory_breaker_options_table();

}  // namespace crosscut::memory_breaker
