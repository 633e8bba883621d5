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
             {"counts_published",
              static_cast<std::int64_t>(runtime_.metrics_totals().published_increments)},
             {"errors_published", static_cast<std::int64_t>(runtime_.errors().stats().published)},
             {"records_waiting", static_cast<std::int64_t>(waiting)},
             {"records_lost", static_cast<std::int64_t>(delivery.lost())},
             {"records_spooled", static_cast<std::int64_t>(delivery.spooled())}});
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
    std::string name = inputs[i].type;
    threads_.emplace_back([this, input, router, name](std::stop_token stop) {
      try {
        input->run(*router, stop);
      } catch (const std::exception& e) {
        log_.error("input failed", {{"input", name}, {"reason", e.what()}});
      } catch (...) {
        log_.error("input failed", {{"input", name}, {"reason", "unknown exception"}});
      }
      {
        std::lock_guard lock(mu_);
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
  return ok;
}

}  // namespace crosscut::agent
