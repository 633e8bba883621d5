// Resolves resource keys to breaker policies (defaults + overrides) and applies operations
// on the configured backend, announcing each transition on the bus and in the log.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "crosscut/breaker.hpp"
#include "crosscut/sdk/sdk.hpp"

namespace crosscut {

class BreakerRegistry {
 public:
  // `bus` may be null (no announcements); backend, logger and clock must outlive the registry.
  BreakerRegistry(sdk::BreakerBackend& backend, sdk::BreakerPolicy defaults,
                  std::map<std::string, sdk::BreakerPolicy> overrides, sdk::Logger& log,
                  const sdk::Clock& clock, sdk::EventBus* bus);

  Breaker breaker(std::string_view key);
  const sdk::BreakerPolicy& policy_for(std::string_view key) const;
  sdk::BreakerResult apply(const std::string& key, const sdk::BreakerPolicy& policy,
                           sdk::BreakerOp op, std::optional<std::int64_t> now_ms);
  sdk::BreakerBackend& backend() { return backend_; }
  void set_bus(sdk::EventBus* bus) { bus_ = bus; }

 private:
  sdk::BreakerBackend& backend_;
  sdk::BreakerPolicy defaults_;
  std::map<std::string, sdk::BreakerPolicy, std::less<>> overrides_;
  sdk::Logger& log_;
  const sdk::Clock& clock_;
  sdk::EventBus* bus_;
  std::shared_ptr<const sdk::BreakerPolicy> default_ptr_;
};

}  // namespace crosscut
