#include "breaker/breaker_registry.hpp"

namespace crosscut {

BreakerRegistry::BreakerRegistry(sdk::BreakerBackend& backend, sdk::BreakerPolicy defaults,
                                 std::map<std::string, sdk::BreakerPolicy> overrides,
                                 sdk::Logger& log, const sdk::Clock& clock, sdk::EventBus* bus)
    : backend_(backend),
      defaults_(defaults),
      overrides_(overrides.begin(), overrides.end()),
      log_(log),
      clock_(clock),
      bus_(bus),
      default_ptr_(std::make_shared<const sdk::BreakerPolicy>(defaults)) {}

const sdk::BreakerPolicy& BreakerRegistry::policy_for(std::string_view key) const {
  auto it = overrides_.find(key);
  return it == overrides_.end() ? defaults_ : it->second;
}

Breaker BreakerRegistry::breaker(std::string_view key) {
  auto it = overrides_.find(key);
  auto policy = it == overrides_.end() ? default_ptr_
                                       : std::make_shared<const sdk::BreakerPolicy>(it->second);
  return Breaker(this, std::make_shared<const std::string>(key), std::move(policy));
}

sdk::BreakerResult BreakerRegistry::apply(const std::string& key, const sdk::BreakerPolicy& policy,
                                          sdk::BreakerOp op, std::optional<std::int64_t> now_ms) {
  sdk::BreakerResult r = backend_.apply(key, op, policy, now_ms);
  if (r.transition) {
    const auto& t = *r.transition;
    log_.warning("circuit breaker transition",
                 {{"breaker", key},
                  {"from", sdk::state_name(t.from)},
                  {"to", sdk::state_name(t.to)},
                  {"reason", sdk::reason_name(t.reason)},
                  {"failures", static_cast<std::int64_t>(r.failures)}});
    if (bus_) {
      sdk::BreakerTransition ev;
      ev.key = key;
      ev.from = t.from;
      ev.to = t.to;
      ev.at = r.now_ms > 0
                  ? std::chrono::system_clock::time_point(std::chrono::milliseconds(r.now_ms))
                  : clock_.now();
      ev.reason = std::string(sdk::reason_name(t.reason));
      bus_->emit(std::move(ev));
    }
  }
  return r;
}

bool Breaker::allow() {
  return apply(sdk::BreakerOp::acquire).allowed;
}
void Breaker::record_success() {
  apply(sdk::BreakerOp::success);
}
void Breaker::record_failure() {
  apply(sdk::BreakerOp::failure);
}
sdk::BreakerState Breaker::state() {
  return apply(sdk::BreakerOp::state).state;
}
void Breaker::reset() {
  apply(sdk::BreakerOp::reset);
}
void Breaker::force_open() {
  apply(sdk::BreakerOp::force_open);
}

sdk::BreakerResult Breaker::apply(sdk::BreakerOp op, std::optional<std::int64_t> now_ms) {
  return registry_->apply(*key_, *policy_, op, now_ms);
}

}  // namespace crosscut
