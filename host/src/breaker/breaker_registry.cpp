#include "breaker/breaker_registry.hpp"

#include <algorithm>
#include <climits>
#include <stdexcept>

#include "crosscut/sdk/breaker_state_machine.hpp"

namespace crosscut {

BreakerRegistry::BreakerRegistry(sdk::BreakerBackend& backend, sdk::BreakerPolicy defaults,
                                 std::map<std::string, sdk::BreakerPolicy> overrides,
                                 sdk::Logger& log, const sdk::Clock& clock, sdk::EventBus* bus,
                                 std::size_t max_key_bytes, std::string instance)
    : backend_(&backend), log_(log), clock_(clock), bus_(bus), max_key_bytes_(max_key_bytes) {
  policies_.push_back(std::make_unique<const Policies>(
      Policies{std::make_shared<const sdk::BreakerPolicy>(defaults),
               {overrides.begin(), overrides.end()},
               std::move(instance)}));
  current_.store(policies_.back().get());
}

Breaker BreakerRegistry::breaker(std::string_view key) {
  const Policies* p = current_.load(std::memory_order_acquire);
  auto it = p->overrides.find(key);
  auto policy = it == p->overrides.end() ? p->defaults
                                         : std::make_shared<const sdk::BreakerPolicy>(it->second);
  return Breaker(this, std::make_shared<const std::string>(key), std::move(policy));
}

void BreakerRegistry::reconfigure(sdk::BreakerBackend& backend, sdk::BreakerPolicy defaults,
                                  std::map<std::string, sdk::BreakerPolicy> overrides,
                                  std::string instance) {
  auto next = std::make_unique<const Policies>(
      Policies{std::make_shared<const sdk::BreakerPolicy>(defaults),
               {overrides.begin(), overrides.end()},
               std::move(instance)});
  {
    std::lock_guard lock(policies_mu_);
    policies_.push_back(std::move(next));
    current_.store(policies_.back().get(), std::memory_order_release);
  }
  reconfigured_.store(true, std::memory_order_release);
  backend_.store(&backend, std::memory_order_release);
}

sdk::BreakerResult BreakerRegistry::apply(const std::string& key,
                                          const sdk::BreakerPolicy& handle_policy,
                                          sdk::BreakerOp op, std::optional<std::int64_t> now_ms,
                                          const sdk::BreakerOpArgs& args) {
  // Handles made before a reload carry the policy of their time: look up the current one.
  const Policies* current = current_.load(std::memory_order_acquire);
  const sdk::BreakerPolicy& policy =
      reconfigured_.load(std::memory_order_acquire) ? current->of(key) : handle_policy;
  if (key.size() > max_key_bytes_) [[unlikely]]
    return refuse(key, policy, op, now_ms);
  sdk::BreakerBackend* backend = backend_.load(std::memory_order_acquire);
  sdk::BreakerResult r;
  // Only a quorum reads the instance, from failures (and, in rate mode, slow successes):
  // other operations carry none (nothing more on the wire).
  const bool outcome = op == sdk::BreakerOp::failure ||
                       (op == sdk::BreakerOp::success && policy.mode == sdk::BreakerMode::rate);
  if (outcome && policy.quorum.min_instances > 1 && args.instance.empty() &&
      !current->instance.empty()) {
    sdk::BreakerOpArgs own = args;  // a quorum counts this process as one instance
    own.instance = current->instance;
    r = backend->apply(key, op, policy, now_ms, own);
  } else {
    r = backend->apply(key, op, policy, now_ms, args);
  }
  if (r.degraded) [[unlikely]]
    degraded_.fetch_add(1, std::memory_order_relaxed);
  if (r.transition) {
    const auto& t = *r.transition;
    transitions_to_[static_cast<std::size_t>(t.to)].fetch_add(1, std::memory_order_relaxed);
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

sdk::BreakerResult BreakerRegistry::refuse(const std::string& key, const sdk::BreakerPolicy& policy,
                                           sdk::BreakerOp op, std::optional<std::int64_t> now_ms) {
  sdk::require_valid_policy(policy);  // as a backend would
  const std::int64_t now =
      now_ms
          ? *now_ms
          : std::chrono::duration_cast<std::chrono::milliseconds>(clock_.now().time_since_epoch())
                .count();
  const std::uint64_t total = too_long_.fetch_add(1, std::memory_order_relaxed) + 1;
  std::int64_t due = next_too_long_log_ms_.load(std::memory_order_relaxed);
  if (now >= due && next_too_long_log_ms_.compare_exchange_strong(due, now + 60'000)) {
    const std::uint64_t since = total - too_long_logged_.exchange(total);
    log_.warning("breaker key refused: longer than the limit (at most one line a minute)",
                 {{"key_start", key.substr(0, 64)},
                  {"key_bytes", key.size()},
                  {"max_key_bytes", max_key_bytes_},
                  {"refused", since}});
  }
  sdk::BreakerData fresh;
  sdk::BreakerResult r = sdk::apply(fresh, sdk::BreakerOp::state, policy, now);
  r.allowed = op == sdk::BreakerOp::acquire;
  r.degraded = true;
  return r;
}

BreakerRegistryStats BreakerRegistry::stats() const {
  BreakerRegistryStats s;
  s.keys_too_long = too_long_.load(std::memory_order_relaxed);
  s.degraded = degraded_.load(std::memory_order_relaxed);
  for (std::size_t i = 0; i < s.transitions_to.size(); ++i)
    s.transitions_to[i] = transitions_to_[i].load(std::memory_order_relaxed);
  return s;
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
void Breaker::record_success(std::chrono::nanoseconds duration) {
  apply(sdk::BreakerOp::success, std::nullopt,
        sdk::BreakerOpArgs{.duration_ms = duration_ms(duration)});
}
void Breaker::record_failure(std::chrono::nanoseconds duration) {
  apply(sdk::BreakerOp::failure, std::nullopt,
        sdk::BreakerOpArgs{.duration_ms = duration_ms(duration)});
}
std::int64_t Breaker::duration_ms(std::chrono::nanoseconds duration) {
  // Whole milliseconds, clamped to what the backends accept; a negative duration is unmeasured.
  if (duration.count() < 0) return -1;
  return std::min<std::int64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(duration).count(),
      sdk::kMaxBreakerTimeMs);
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

void Breaker::open_for(std::chrono::milliseconds duration) {
  if (duration.count() < 0) throw std::invalid_argument("breaker open_for: negative duration");
  apply(sdk::BreakerOp::open_until, std::nullopt, sdk::BreakerOpArgs{.for_ms = duration.count()});
}
void Breaker::open_until(std::chrono::system_clock::time_point until) {
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(until.time_since_epoch()).count();
  apply(sdk::BreakerOp::open_until, std::nullopt, sdk::BreakerOpArgs{.until_ms = ms});
}

sdk::BreakerResult Breaker::apply(sdk::BreakerOp op, std::optional<std::int64_t> now_ms,
                                  const sdk::BreakerOpArgs& args) {
  return registry_->apply(*key_, *policy_, op, now_ms, args);
}

}  // namespace crosscut
