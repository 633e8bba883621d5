#include "agent/agent.hpp"

#include <algorithm>

namespace crosscut::agent {

Agent::Agent(Runtime& runtime, AgentOptions options)
    : runtime_(runtime),
      options_(options),
      log_(runtime.logger("agent", "app")),
      bad_(runtime.logger("agent.input", "app"), options.bad_line_reports),
      flushes_(runtime, kFlushReplyTimeout) {
  for (const auto& input : runtime_.inputs()) inputs_.push_back(prepare(input));
  runtime_.set_metrics_collector([this](std::vector<MetricFamily>& out) { collect_metrics(out); });
}

Agent::~Agent() {
  runtime_.set_input_runner(nullptr);
  runtime_.set_metrics_collector({});
  request_stop();
  std::lock_guard lock(mu_);
  inputs_.clear();  // jthread: requests stop and joins
}

std::unique_ptr<Agent::RunningInput> Agent::prepare(const RuntimeInput& input) {
  auto running = std::make_unique<RunningInput>();
  running->input = input.input;
  running->name = input.item.path() + " (" + input.type + ")";
  std::optional<MarketDataMapping> mapping;
  if (input.item.get_string("format") == "market_data")
    mapping.emplace(input.item.child("market_data"));
  running->router = std::make_unique<EventRouter>(runtime_, stats_, bad_, std::move(mapping));
  std::lock_guard lock(mu_);  // a scrape reads input_stats_
  auto& per_input = input_stats_[running->name];
  if (!per_input) per_input = std::make_unique<AgentStats>();
  running->router->count_also_in(*per_input);
  running->router->answer_flushes_through(flushes_);
  return running;
}

void Agent::start(RunningInput& running) {
  sdk::Input* input = running.input;
  EventRouter* router = running.router.get();
  const std::string name = running.name;
  ++inputs_running_;
  try {
    running.thread = std::jthread([this, input, router, name](std::stop_token stop) {
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
  } catch (const std::system_error& e) {  // no thread to run it on
    --inputs_running_;
    failed_inputs_.push_back("input " + name + " failed: cannot start its thread: " + e.what());
  }
}

void Agent::replace_inputs(const std::vector<RuntimeInput>& stopping,
                           const std::vector<RuntimeInput>& starting) {
  std::vector<std::unique_ptr<RunningInput>> next;
  for (const auto& input : starting) next.push_back(prepare(input));
  std::vector<std::unique_ptr<RunningInput>> stopped;
  {
    std::lock_guard lock(mu_);
    replacing_ = true;  // the old inputs ending is not "every input has ended"
    for (const auto& input : stopping) {
      auto it = std::find_if(inputs_.begin(), inputs_.end(),
                             [&](const auto& r) { return r->input == input.input; });
      if (it == inputs_.end()) continue;
      stopped.push_back(std::move(*it));
      inputs_.erase(it);
    }
  }
  // The old ones end first (joined outside the lock: their threads take it as they end), so
  // that a new one never shares what the old one held (stdin, a file position). What they
  // read is delivered.
  for (auto& running : stopped) {
    log_.info("input replaced by a reload", {{"input", running->name}});
    running->thread = {};
  }
  {
    std::lock_guard lock(mu_);
    for (auto& running : next) {
      start(*running);
      inputs_.push_back(std::move(running));
    }
    replacing_ = false;
  }
  cv_.notify_all();
}

void Agent::collect_metrics(std::vector<MetricFamily>& out) const {
  MetricFamily events{"crosscut_input_events_total",
                      "Events the inputs delivered, by input and kind.",
                      MetricFamily::Type::counter,
                      {}};
  MetricFamily bad{"crosscut_input_bad_lines_total",
                   "Lines the inputs delivered that were not a valid event.",
                   MetricFamily::Type::counter,
                   {}};
  std::lock_guard lock(mu_);
  for (const auto& [name, s] : input_stats_) {
    const std::pair<const char*, std::uint64_t> kinds[] = {{"message", s->messages.load()},
                                                           {"error", s->errors.load()},
                                                           {"outcome", s->outcomes.load()},
                                                           {"log", s->logs.load()}};
    for (const auto& [event, value] : kinds)
      events.samples.push_back({{{"input", name}, {"event", event}}, static_cast<double>(value)});
    bad.samples.push_back({{{"input", name}}, static_cast<double>(s->bad_lines.load())});
  }
  out.push_back(std::move(events));
  out.push_back(std::move(bad));
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
  std::size_t count = 0;
  {
    std::lock_guard lock(mu_);
    for (auto& running : inputs_) start(*running);
    count = inputs_.size();
  }
  log_.info("crosscut agent started", {{"inputs", static_cast<std::int64_t>(count)}});
  // Ready before reloads are taken: a reload then restores "ready", never "starting".
  runtime_.mark_ready();
  runtime_.set_input_runner(this);

  {
    std::unique_lock lock(mu_);
    // With inputs, the agent ends when they all have; without (none configured, or a reload
    // removed them all), only when asked to.
    auto all_ended = [&] { return !inputs_.empty() && !replacing_ && inputs_running_ == 0; };
    for (;;) {
      if (stop_requested_) break;
      if (all_ended()) {
        lock.unlock();
        log_.info("every input has ended");
        lock.lock();
        break;
      }
      if (!cv_.wait_for(lock, options_.health_interval,
                        [&] { return stop_requested_ || all_ended(); })) {
        lock.unlock();
        log_health();
        lock.lock();
      }
    }
  }
  // Not ready from here on, and no reload replaces inputs (one under way ends first).
  runtime_.mark_stopping();
  runtime_.set_input_runner(nullptr);
  std::vector<std::unique_ptr<RunningInput>> stopping;
  {
    std::lock_guard lock(mu_);
    for (auto& running : inputs_) running->thread.request_stop();
    stopping.swap(inputs_);
  }
  stopping.clear();  // joins: inputs return promptly once asked to stop
  flushes_.stop();   // answers the flushes still waiting, while the log sinks are open
  // The last health record comes once the sinks are closed: its figures are the final ones.
  bool ok = runtime_.shutdown(options_.shutdown_timeout, [this] { log_health(); });
  if (!ok) log_.error("shutdown did not deliver everything in time");
  std::lock_guard lock(mu_);
  return ok && failed_inputs_.empty();
}

}  // namespace crosscut::agent
