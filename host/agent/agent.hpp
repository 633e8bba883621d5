// Agent mode (`crosscut run`): runs every input on a thread of its own, routes
// what they deliver, logs a health record periodically, and stops when every input has
// ended or a stop is requested; then drains, flushes and shuts the runtime down.
#pragma once

#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "agent/agent_options.hpp"
#include "agent/event_router.hpp"
#include "agent/flush_replier.hpp"
#include "crosscut/runtime.hpp"

namespace crosscut::agent {

// Also the runtime's InputRunner: a reload that changes an input stops its thread and starts
// the new one, while the unchanged inputs run on.
class Agent final : private InputRunner {
 public:
  // Builds one router per input of the runtime (built with BuildScope::agent).
  Agent(Runtime& runtime, AgentOptions options);
  ~Agent() override;
  Agent(const Agent&) = delete;
  Agent& operator=(const Agent&) = delete;

  // Blocks until every input has ended (when there is at least one) or request_stop(); then
  // stops the inputs and shuts the runtime down within shutdown_timeout. True when no input
  // failed and everything was drained and delivered (or spooled) in time, nothing lost.
  bool run();
  // One line per input that failed (threw from run()), in the order they failed. Thread-safe.
  std::vector<std::string> failed_inputs() const {
    std::lock_guard lock(mu_);
    return failed_inputs_;
  }
  // Thread-safe; callable before or during run().
  void request_stop();

  const AgentStats& stats() const { return stats_; }

 private:
  struct RunningInput {
    sdk::Input* input = nullptr;
    std::string name;  // "inputs[0] (unix)": where it is configured, and its type
    std::unique_ptr<EventRouter> router;
    std::jthread thread;  // declared last: joined before the router goes
  };

  void log_health();
  std::unique_ptr<RunningInput> prepare(const RuntimeInput& input);
  void start(RunningInput& running);  // under mu_
  void replace_inputs(const std::vector<RuntimeInput>& stopping,
                      const std::vector<RuntimeInput>& starting) override;
  void collect_metrics(std::vector<MetricFamily>& out) const;

  Runtime& runtime_;
  AgentOptions options_;
  Logger log_;
  AgentStats stats_;
  BadLineReporter bad_;
  // Before the inputs: their routers hand it flush requests until they are joined.
  FlushReplier flushes_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stop_requested_ = false;
  bool replacing_ = false;  // a reload is replacing inputs
  std::size_t inputs_running_ = 0;
  std::vector<std::string> failed_inputs_;
  std::vector<std::unique_ptr<RunningInput>> inputs_;  // guarded by mu_
  // Each input's own figures, by name: kept across reloads, so that they never go back.
  std::map<std::string, std::unique_ptr<AgentStats>> input_stats_;  // guarded by mu_
};

}  // namespace crosscut::agent
