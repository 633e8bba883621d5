// Resolves resource keys to breaker policies (defaults + overrides) and applies operations
// on the configured backend, announcing each transition on the bus and in the log.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "crosscut/breaker.hpp"
#include "crosscut/sdk/sdk.hpp"

namespace crosscut {

// The longest resource key a breaker may have. Longer keys are refused rather than cut: two
// long keys cut alike would share a breaker.
inline constexpr std::size_t kMaxResourceKeyBytes = 256;

// What the registry saw, since it was made.
struct BreakerRegistryStats {
  // Operations refused because the key was longer than the limit: each answered as a fresh
  // CLOSED breaker (`degraded` set), without reaching the backend.
  std::uint64_t keys_too_long = 0;
  // Operations the backend answered by a fallback instead of its store (`degraded`): Redis
  // unreachable, or a full memory store that could not keep a new key.
  std::uint64_t degraded = 0;
};

// Thread-safety: every member may be called from any thread (set_bus only before use).
//
// A key longer than max_key_bytes is refused: each operation on it is answered as a fresh
// CLOSED breaker would answer it, with `degraded` set, nothing recorded and no transition; the
// refusals are counted and logged at most once a minute.
class BreakerRegistry {
 public:
  // `bus` may be null (no announcements); backend, logger and clock must outlive the registry.
  BreakerRegistry(sdk::BreakerBackend& backend, sdk::BreakerPolicy defaults,
                  std::map<std::string, sdk::BreakerPolicy> overrides, sdk::Logger& log,
                  const sdk::Clock& clock, sdk::EventBus* bus,
                  std::size_t max_key_bytes = kMaxResourceKeyBytes);

  Breaker breaker(std::string_view key);
  const sdk::BreakerPolicy& policy_for(std::string_view key) const;
  sdk::BreakerResult apply(const std::string& key, const sdk::BreakerPolicy& policy,
                           sdk::BreakerOp op, std::optional<std::int64_t> now_ms);
  sdk::BreakerBackend& backend() { return backend_; }
  void set_bus(sdk::EventBus* bus) { bus_ = bus; }
  BreakerRegistryStats stats() const;

 private:
  sdk::BreakerResult refuse(const std::string& key, const sdk::BreakerPolicy& policy,
                            sdk::BreakerOp op, std::optional<std::int64_t> now_ms);

  sdk::BreakerBackend& backend_;
  sdk::BreakerPolicy defaults_;
  std::map<std::string, sdk::BreakerPolicy, std::less<>> overrides_;
  sdk::Logger& log_;
  const sdk::Clock& clock_;
  sdk::EventBus* bus_;
  std::shared_ptr<const sdk::BreakerPolicy> default_ptr_;
  const std::size_t max_key_bytes_;

  std::atomic<std::uint64_t> too_long_{0};
  std::atomic<std::uint64_t> degraded_{0};
  std::atomic<std::int64_t> next_too_long_log_ms_{INT64_MIN};
  std::atomic<std::uint64_t> too_long_logged_{0};
};

}  // namespace crosscut
