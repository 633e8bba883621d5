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

namespace {
thread_local const RuntimeHost::SinkTable* t_staged = nullptr;
thread_local RuntimeHost::SinkLookups* t_lookups = nullptr;
}  // namespace

RuntimeHost::StagedSinks::StagedSinks(const SinkTable& table) {
  t_staged = &table;
}
RuntimeHost::StagedSinks::~StagedSinks() {
  t_staged = nullptr;
}

RuntimeHost::SinkLookups::SinkLookups() : outer_(t_lookups) {
  t_lookups = this;
}
RuntimeHost::SinkLookups::~SinkLookups() {
  t_lookups = outer_;
}

void RuntimeHost::set_record_sinks(SinkTable table) {
  std::unique_lock lock(sinks_mu_);
  sinks_ = std::move(table);
}

sdk::RecordSink* RuntimeHost::find_sink(const SinkTable& table, std::string_view name) {
  for (const auto& [n, sink] : table.built)
    if (n == name) return sink;
  for (const auto& n : table.unbuilt)
    if (n == name) return &unbuilt_sink_;
  return nullptr;
}

sdk::RecordSink* RuntimeHost::record_sink(std::string_view name) {
  if (t_lookups) t_lookups->names_.emplace_back(name);
  if (t_staged) return find_sink(*t_staged, name);
  std::shared_lock lock(sinks_mu_);
  return find_sink(sinks_, name);
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
