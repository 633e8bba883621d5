// The memory_breaker plugin: breaker backend `memory`.
#include <memory>

#include "crosscut/sdk/sdk.hpp"
#include "memory_breaker_backend.hpp"

namespace {

crosscut::sdk::PluginDescriptor describe() {
  using namespace crosscut::sdk;
  OptionSpec shards =
      option("shards", OptionType::integer, "64",
             "independently locked partitions of the key space (rounded up to a power of two)");
  shards.min = 1;
  ConfigSchema schema{std::move(shards)};
  ComponentFactory memory{
      ComponentKind::breaker_backend, "memory",
      "breaker state held in this process (one machine, no server)", std::move(schema),
      [](const ConfigView& options, HostContext& host) -> std::unique_ptr<Component> {
        const auto shards = options.get_int("shards", 64);
        if (shards > 65536) options.fail("shards", "must be at most 65536");
        return std::make_unique<crosscut::memory_breaker::MemoryBreakerBackend>(
            host.clock(), static_cast<std::size_t>(shards));
      }};
  return {"memory_breaker", "1.0.0", {std::move(memory)}};
}

}  // namespace

CROSSCUT_PLUGIN(describe)
