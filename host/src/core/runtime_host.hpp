// The HostContext the runtime hands to every component: loggers, the bus, the clock, named
// record sinks, error reporting and host metrics.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <vector>

#include "core/unbuilt_record_sink.hpp"
#include "crosscut/errors.hpp"
#include "crosscut/sdk/host_context.hpp"
#include "delivery/delivery_queue.hpp"
#include "logging/log_engine.hpp"

namespace crosscut::core {

// Thread-safety: every member function may be called from any thread once the parts it uses
// are attached. Errors reported before attach_dispatcher() (a sink or backend failing at
// startup) are held and dispatched when the dispatcher is attached; after
// detach_dispatcher() they are logged only.
class RuntimeHost final : public sdk::HostContext {
 public:
  RuntimeHost(std::string service, const sdk::Clock& clock)
      : service_(std::move(service)), clock_(clock) {}

  void attach_logging(logging::LogEngine& engine) { log_engine_ = &engine; }
  void attach_bus(sdk::EventBus& bus) { bus_ = &bus; }
  // Components see each sink through its delivery queue.
  void attach_record_sinks(const std::vector<std::unique_ptr<delivery::DeliveryQueue>>& sinks) {
    record_sinks_ = &sinks;
  }
  // Names under `sinks:` that record_sink() answers with a sink refusing everything while
  // the real one is not built (or never will be, in a scope that builds no sinks).
  void declare_unbuilt_sinks(std::vector<std::string> names) { unbuilt_names_ = std::move(names); }
  // Dispatches the errors held so far, then every later one.
  void attach_dispatcher(ErrorDispatcher& dispatcher);
  // Blocks until no report is being dispatched; later reports are logged, not dispatched.
  void detach_dispatcher();

  sdk::Logger& logger(std::string_view name, std::string_view category) override {
    return log_engine_->sdk_logger(name, category);
  }
  sdk::EventBus& bus() override { return *bus_; }
  const sdk::Clock& clock() const override { return clock_; }
  sdk::RecordSink* record_sink(std::string_view name) override;
  void report_error(sdk::ErrorEvent error) override;
  void add_metric(std::string_view name, std::int64_t delta) override;
  std::string_view service_name() const override { return service_; }
  // What components counted through add_metric(), by name.
  std::map<std::string, std::int64_t> metrics() const {
    std::lock_guard lock(metrics_mu_);
    return metrics_;
  }

 private:
  const std::string service_;
  const sdk::Clock& clock_;
  logging::LogEngine* log_engine_ = nullptr;
  sdk::EventBus* bus_ = nullptr;
  const std::vector<std::unique_ptr<delivery::DeliveryQueue>>* record_sinks_ = nullptr;
  std::vector<std::string> unbuilt_names_;
  UnbuiltRecordSink unbuilt_sink_;

  std::mutex early_mu_;
  bool dispatcher_ready_ = false;       // guarded by early_mu_
  std::vector<sdk::ErrorEvent> early_;  // guarded by early_mu_
  std::atomic<bool> dispatcher_gone_{false};
  std::shared_mutex dispatcher_mu_;  // detach waits for reports under way
  ErrorDispatcher* dispatcher_ = nullptr;

  mutable std::mutex metrics_mu_;
  std::map<std::string, std::int64_t> metrics_;  // add_metric, for the health record
};

}  // namespace crosscut::core
