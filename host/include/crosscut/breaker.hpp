// Circuit breakers as the application uses them: rt.breaker("upbit/korea/ticker").
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

#include "crosscut/export.hpp"
#include "crosscut/sdk/breaker.hpp"

namespace crosscut {

class BreakerRegistry;

// Thrown by Breaker::call when the breaker rejects the call.
class CROSSCUT_API CircuitOpenError : public std::runtime_error {
 public:
  explicit CircuitOpenError(const std::string& key)
      : std::runtime_error("circuit '" + key + "' is open"), key_(key) {}
  const std::string& key() const { return key_; }

 private:
  std::string key_;
};

// A handle on one resource's breaker. Cheap to copy; valid while the Runtime lives.
// Thread-safe: the state lives in the configured backend, and every call is one atomic
// operation there. Transitions are emitted on the bus and logged by the instance making them.
class CROSSCUT_API Breaker {
 public:
  Breaker(BreakerRegistry* registry, std::shared_ptr<const std::string> key,
          std::shared_ptr<const sdk::BreakerPolicy> policy)
      : registry_(registry), key_(std::move(key)), policy_(std::move(policy)) {}

  // acquire: true when the call may proceed (report its outcome with record_*).
  bool allow();
  void record_success();
  void record_failure();
  // With how long the call took, for a rate-mode policy's slow-call rule (whole ms; a negative
  // duration counts as unmeasured). Other policies ignore the duration.
  void record_success(std::chrono::nanoseconds duration);
  void record_failure(std::chrono::nanoseconds duration);
  sdk::BreakerState state();
  void reset();
  void force_open();
  // OPEN for `duration` from now (the backend's clock: Redis' with use_server_time), or until
  // `until`, for every instance sharing the state; a later time already set is kept. After
  // it, the breaker behaves as any OPEN one whose open period ended (HALF_OPEN on the next
  // allow). For a server's Retry-After or ban time. Throws std::invalid_argument for a
  // negative duration or one, or a time, beyond sdk::kMaxBreakerTimeMs.
  void open_for(std::chrono::milliseconds duration);
  void open_until(std::chrono::system_clock::time_point until);
  // Any operation, with an explicit time in epoch ms (simulators, tests), or the backend's.
  sdk::BreakerResult apply(sdk::BreakerOp op, std::optional<std::int64_t> now_ms = std::nullopt,
                           const sdk::BreakerOpArgs& args = {});

  // Runs f when allowed (else throws CircuitOpenError) and records its outcome with how long
  // it took: a return is a success, an exception a failure (and is rethrown).
  template <class F>
  auto call(F&& f) -> std::invoke_result_t<F> {
    if (!allow()) throw CircuitOpenError(*key_);
    const auto started = std::chrono::steady_clock::now();
    try {
      if constexpr (std::is_void_v<std::invoke_result_t<F>>) {
        std::forward<F>(f)();
        record_success(std::chrono::steady_clock::now() - started);
      } else {
        auto result = std::forward<F>(f)();
        record_success(std::chrono::steady_clock::now() - started);
        return result;
      }
    } catch (...) {
      record_failure(std::chrono::steady_clock::now() - started);
      throw;
    }
  }

  const std::string& key() const { return *key_; }
  const sdk::BreakerPolicy& policy() const { return *policy_; }

 private:
  static std::int64_t duration_ms(std::chrono::nanoseconds duration);

  BreakerRegistry* registry_;
  std::shared_ptr<const std::string> key_;
  std::shared_ptr<const sdk::BreakerPolicy> policy_;
};

}  // namespace crosscut
