// Plugin `redis_breaker`: breaker backend `redis`.
#include "crosscut/sdk/sdk.hpp"
#include "redis_breaker_backend.hpp"

namespace {

crosscut::sdk::PluginDescriptor describe() {
  using crosscut::redis::RedisBreakerBackend;
  return {"redis_breaker",
          "1.0.0",
          {crosscut::sdk::make_factory<RedisBreakerBackend>(
              "redis", "Breaker state shared through Redis (one Lua script per operation)")}};
}

}  // namespace

CROSSCUT_PLUGIN(describe)
