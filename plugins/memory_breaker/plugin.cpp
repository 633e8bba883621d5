// The memory_breaker plugin: breaker backend `memory`.
#include "crosscut/sdk/sdk.hpp"
#include "memory_breaker_backend.hpp"

namespace {

crosscut::sdk::PluginDescriptor describe() {
  using crosscut::memory_breaker::MemoryBreakerBackend;
  return {"memory_breaker",
          "1.0.0",
          {crosscut::sdk::make_factory<MemoryBreakerBackend>(
              "memory", "breaker state held in this process (one machine, no server)")}};
}

}  // namespace

CROSSCUT_PLUGIN(describe)
