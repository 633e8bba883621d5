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
  // What record_sink() answers: each sink through its delivery queue, and the names under
  // `sinks:` answered with a sink refusing everything while the real one is not built (or
  // never will be, in a scope that builds no sinks).
  struct SinkTable {
    std::vector<std::pair<std::string, sdk::RecordSink*>> built;
    std::vector<std::string> unbuilt;
  };
  // The table every thread sees (replaced by a reload).
  void set_record_sinks(SinkTable table);
  // While it lives, record_sink() on this thread answers from `table` (the configuration
  // being built, which may still grow) instead: a reload builds its components against its
  // own sinks while the running ones keep theirs. Also records the names looked up.
  class StagedSinks {
   public:
    explicit StagedSinks(const SinkTable& table);
    ~StagedSinks();
    StagedSinks(const StagedSinks&) = delete;
    StagedSinks& operator=(const StagedSinks&) = delete;
  };
  // The names record_sink() was asked for on this thread while it lives (what a component
  // looked up while it was built, so that a reload replacing one of them rebuilds it).
  class SinkLookups {
   public:
    SinkLookups();
    ~SinkLookups();
    SinkLookups(const SinkLookups&) = delete;
    SinkLookups& operator=(const SinkLookups&) = delete;
    std::vector<std::string> take() { return std::move(names_); }

   private:
    friend class RuntimeHost;
    std::vector<std::string> names_;
    SinkLookups* outer_;
  };
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
  sdk::RecordSink* find_sink(const SinkTable& table, std::string_view name);

  std::shared_mutex sinks_mu_;
  SinkTable sinks_;  // guarded by sinks_mu_
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
