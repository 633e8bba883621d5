// The options of breaker backend `memory`, declared once: the struct (defaults) and its table.
#pragma once

#include <cstddef>

#include "crosscut/sdk/options.hpp"

namespace crosscut::memory_breaker {

struct MemoryBreakerOptions {
  std::size_t shards = 64;  // rounded up to a power of two
};

const sdk::OptionTable<MemoryBreakerOptions>& memory_breaker_options_table();

}  // namespace crosscut::memory_breaker
