// Resolves resource keys to breaker policies (defaults + overrides) and applies operations
// on the configured backend, announcing each transition on the bus and in the log.
#pragma once

#include <array>
#include <mutex>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

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
  // Transitions this process made, by the state entered (indexed by sdk::BreakerState).
  std::array<std::uint64_t, 3> transitions_to{};
};

// Thread-safety: every member may be called from any thread (set_bus only before use).
//
// A key longer than max_key_bytes is refused: each operation on it is answered as a fresh
// CLOSED breaker would answer it, with `degraded` set, nothing recorded and no transition; the
// refusals are counted and logged at most once a minute.
class BreakerRegistry {
 public:
  // `bus` may be null (no announcements); backend, logger and clock must outlive the registry.
  // `instance`: this process's id in quorums, given to failures whose caller names none.
  BreakerRegistry(sdk::BreakerBackend& backend, sdk::BreakerPolicy defaults,
                  std::map<std::string, sdk::BreakerPolicy> overrides, sdk::Logger& log,
                  const sdk::Clock& clock, sdk::EventBus* bus,
                  std::size_t max_key_bytes = kMaxResourceKeyBytes, std::string instance = {});

  Breaker breaker(std::string_view key);
  // An operation through a handle made with `policy`: after a reconfigure() the key's
  // current policy applies instead.
  sdk::BreakerResult apply(const std::string& key, const sdk::BreakerPolicy& policy,
                           sdk::BreakerOp op, std::optional<std::int64_t> now_ms,
                           const sdk::BreakerOpArgs& args = {});
  sdk::BreakerBackend& backend() { return *backend_.load(std::memory_order_acquire); }
  // A reloaded `breakers` section: its policies for every later operation, handles made
  // before included, and its backend (the same one, or a new one whose breakers start
  // fresh). The old backend must outlive every operation that may still be using it: the
  // runtime keeps it until it stops.
  void reconfigure(sdk::BreakerBackend& backend, sdk::BreakerPolicy defaults,
                   std::map<std::string, sdk::BreakerPolicy> overrides, std::string instance = {});
  void set_bus(sdk::EventBus* bus) { bus_ = bus; }
  BreakerRegistryStats stats() const;

 private:
  sdk::BreakerResult refuse(const std::string& key, const sdk::BreakerPolicy& policy,
                            sdk::BreakerOp op, std::optional<std::int64_t> now_ms);

  struct Policies {
    std::shared_ptr<const sdk::BreakerPolicy> defaults;
    std::map<std::string, sdk::BreakerPolicy, std::less<>> overrides;
    std::string instance;
    // The policy of `key`; valid as long as this set is.
    const sdk::BreakerPolicy& of(std::string_view key) const {
      auto it = overrides.find(key);
      return it == overrides.end() ? *defaults : it->second;
    }
  };

  std::atomic<sdk::BreakerBackend*> backend_;
  // Every set of policies there has been, the current one last: kept until the registry goes,
  // so that an operation reads the current set through `current_` without a lock or a count
  // (reloads are few; each set is a few hundred bytes).
  std::mutex policies_mu_;
  std::vector<std::unique_ptr<const Policies>> policies_;  // guarded by policies_mu_
  std::atomic<const Policies*> current_;
  // False until a reconfigure(): until then a handle's own policy is the current one.
  std::atomic<bool> reconfigured_{false};
  sdk::Logger& log_;
  const sdk::Clock& clock_;
  sdk::EventBus* bus_;
  const std::size_t max_key_bytes_;

  std::array<std::atomic<std::uint64_t>, 3> transitions_to_{};

  std::atomic<std::uint64_t> too_long_{0};
  std::atomic<std::uint64_t> degraded_{0};
  std::atomic<std::int64_t> next_too_long_log_ms_{INT64_MIN};
  std::atomic<std::uint64_t> too_long_logged_{0};
};

}  // namespace crosscut
