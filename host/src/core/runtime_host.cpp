#include "core/runtime_host.hpp"

namespace crosscut::core {

void RuntimeHost::attach_dispatcher(ErrorDispatcher& dispatcher) {
  std::vector<sdk::ErrorEvent> early;
  {
    std::lock_guard lock(early_mu_);
    dispatcher_ = &dispatcher;
    dispatcher_ready_ = true;
    early.swap(early_);
  }
  for (auto& e : early) dispatcher.dispatch(std::move(e));
}

void RuntimeHost::detach_dispatcher() {
  {
    std::lock_guard lock(early_mu_);
    dispatcher_gone_ = true;
  }
  std::unique_lock exclusive(dispatcher_mu_);
  dispatcher_ = nullptr;
}

sdk::RecordSink* RuntimeHost::record_sink(std::string_view name) {
  if (record_sinks_)
    for (auto& s : *record_sinks_)
      if (s->name() == name) return s.get();
  for (const auto& n : unbuilt_names_)
    if (n == name) return &unbuilt_sink_;
  return nullptr;
}

void RuntimeHost::report_error(sdk::ErrorEvent error) {
  {
    // Components built before the dispatcher (sinks, the breaker backend) may report at
    // startup (e.g. Redis unreachable): keep those and dispatch them once it exists.
    std::lock_guard lock(early_mu_);
    if (!dispatcher_ready_ && !dispatcher_gone_) {
      early_.push_back(std::move(error));
      return;
    }
  }
  std::shared_lock use(dispatcher_mu_);
  if (dispatcher_gone_ || !dispatcher_) {
    logger("errors", "app")
        .error("error reported during shutdown (not dispatched)",
               {{"kind", error.kind}, {"message", error.info.message}});
    return;
  }
  dispatcher_->dispatch(std::move(error));
}

void RuntimeHost::add_metric(std::string_view name, std::int64_t delta) {
  std::lock_guard lock(metrics_mu_);
  metrics_[std::string(name)] += delta;
}

}  // namespace crosscut::core
