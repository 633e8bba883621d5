// The memory backend against the SDK's breaker conformance suite.
#include <memory>

#include "crosscut/sdk/testing/breaker_conformance.hpp"
#include "memory_breaker/memory_breaker_backend.hpp"
#include "support/test_host.hpp"

namespace {

// The suite passes every time explicitly; the clock only has to outlive the backends.
const crosscut::testing::ManualClock& suite_clock() {
  static const crosscut::testing::ManualClock clock;
  return clock;
}

}  // namespace

CROSSCUT_BREAKER_CONFORMANCE(Memory, [] {
  return std::make_unique<crosscut::memory_breaker::MemoryBreakerBackend>(suite_clock());
});

// A single shard puts every key behind one lock: the rules must not depend on sharding.
CROSSCUT_BREAKER_CONFORMANCE(MemoryOneShard, [] {
  return std::make_unique<crosscut::memory_breaker::MemoryBreakerBackend>(suite_clock(), 1);
});

// A store that evicts every key it may as soon as it may (1 ms idle) and holds few: eviction
// must never change what an operation answers.
CROSSCUT_BREAKER_CONFORMANCE(MemoryEagerEviction, [] {
  crosscut::memory_breaker::MemoryBreakerOptions options;
  options.max_keys = 16;
  options.shards = 2;
  options.idle_evict_after = std::chrono::milliseconds(1);
  return std::make_unique<crosscut::memory_breaker::MemoryBreakerBackend>(suite_clock(), options);
});
