#include "agent/agent.hpp"

namespace crosscut::agent {

Agent::Agent(Runtime& runtime, AgentOptions options)
    : runtime_(runtime),
      options_(options),
      log_(runtime.logger("agent", "app")),
      bad_(runtime.logger("agent.input", "app"), options.bad_line_reports) {
  for (const auto& input : runtime_.inputs()) {
    std::optional<MarketDataMapping> mapping;
    if (input.item.get_string("format") == "market_data")
      mapping.emplace(input.item.child("market_data"));
    routers_.push_back(std::make_unique<EventRouter>(runtime_, stats_, bad_, std::move(mapping)));
  }
}

Agent::~Agent() {
  request_stop();
  threads_.clear();  // jthread: requests stop and joins
}

void Agent::request_stop() {
  {
    std::lock_guard lock(mu_);
    stop_requested_ = true;
  }
  cv_.notify_all();
}

void Agent::log_health() {
  auto bus = runtime_.bus_stats();
  const DeliveryReport delivery = runtime_.delivery_report();
  std::uint64_t waiting = 0;
  for (const auto& sink : delivery.sinks) waiting += sink.waiting;
  const MetricsTotals metrics = runtime_.metrics_totals();
  const BreakerTotals breakers = runtime_.breaker_totals();
  sdk::Value components = sdk::Value::object({});
  for (const auto& [name, value] : runtime_.component_metrics())
    components.as_object().emplace_back(name, sdk::Value(value));
  log_.info("health",
            {{"lines", static_cast<std::int64_t>(stats_.lines.load())},
             {"messages", static_cast<std::int64_t>(stats_.messages.load())},
             {"errors", static_cast<std::int64_t>(stats_.errors.load())},
             {"outcomes", static_cast<std::int64_t>(stats_.outcomes.load())},
             {"logs", static_cast<std::int64_t>(stats_.logs.load())},
             {"bad_lines", static_cast<std::int64_t>(stats_.bad_lines.load())},
             {"bus_published", static_cast<std::int64_t>(bus.published)},
             {"bus_dropped", static_cast<std::int64_t>(bus.dropped)},
             {"handler_failures", static_cast<std::int64_t>(bus.handler_failures)},
             {"sink_failures", static_cast<std::int64_t>(runtime_.sink_failures())},
             {"counts_published", static_cast<std::int64_t>(metrics.published_increments)},
             {"counters_live", static_cast<std::int64_t>(metrics.counters_live)},
             {"counters_released", static_cast<std::int64_t>(metrics.counters_released)},
             {"counts_refused", static_cast<std::int64_t>(metrics.refused_increments)},
             {"breaker_keys_too_long", static_cast<std::int64_t>(breakers.keys_too_long)},
             {"breaker_degraded", static_cast<std::int64_t>(breakers.degraded)},
             {"errors_published", static_cast<std::int64_t>(runtime_.errors().stats().published)},
             {"records_waiting", static_cast<std::int64_t>(waiting)},
             {"records_lost", static_cast<std::int64_t>(delivery.lost())},
             {"records_spooled", static_cast<std::int64_t>(delivery.spooled())},
             {"components", components}});
}

bool Agent::run() {
  auto inputs = runtime_.inputs();
  {
    std::lock_guard lock(mu_);
    inputs_running_ = inputs.size();
  }
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    sdk::Input* input = inputs[i].input;
    EventRouter* router = routers_[i].get();
    // "inputs[0] (file)": where the input is configured, which says which one it is.
    std::string name = inputs[i].item.path() + " (" + inputs[i].type + ")";
    threads_.emplace_back([this, input, router, name](std::stop_token stop) {
      std::string failure;
      try {
        input->run(*router, stop);
      } catch (const std::exception& e) {
        failure = e.what();
      } catch (...) {
        failure = "unknown exception";
      }
      if (!failure.empty()) log_.error("input failed", {{"input", name}, {"reason", failure}});
      {
        std::lock_guard lock(mu_);
        if (!failure.empty()) failed_inputs_.push_back("input " + name + " failed: " + failure);
        --inputs_running_;
      }
      cv_.notify_all();
    });
  }
  log_.info("crosscut agent started", {{"inputs", static_cast<std::int64_t>(inputs.size())}});

  {
    std::unique_lock lock(mu_);
    const bool has_inputs = !inputs.empty();
    for (;;) {
      if (stop_requested_) break;
      if (has_inputs && inputs_running_ == 0) {
        lock.unlock();
        log_.info("every input has ended");
        lock.lock();
        break;
      }
      if (!cv_.wait_for(lock, options_.health_interval,
                        [&] { return stop_requested_ || (has_inputs && inputs_running_ == 0); })) {
        lock.unlock();
        log_health();
        lock.lock();
      }
    }
  }
  for (auto& t : threads_) t.request_stop();
  threads_.clear();  // joins: inputs return promptly once asked to stop
  // The last health record comes once the sinks are closed: its figures are the final ones.
  bool ok = runtime_.shutdown(options_.shutdown_timeout, [this] { log_health(); });
  if (!ok) log_.error("shutdown did not deliver everything in time");
  std::lock_guard lock(mu_);
  return ok && failed_inputs_.empty();
}

}  // namespace crosscut::agent
