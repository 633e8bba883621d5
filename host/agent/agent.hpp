// Agent mode (`crosscut run`): runs every input on a thread of its own, routes
// what they deliver, logs a health record periodically, and stops when every input has
// ended or a stop is requested; then drains, flushes and shuts the runtime down.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "agent/agent_options.hpp"
#include "agent/event_router.hpp"
#include "crosscut/runtime.hpp"

namespace crosscut::agent {

class Agent {
 public:
  // Builds one router per input of the runtime (built with BuildScope::agent).
  Agent(Runtime& runtime, AgentOptions options);
  ~Agent();
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
  void log_health();

  Runtime& runtime_;
  AgentOptions options_;
  Logger log_;
  AgentStats stats_;
  BadLineReporter bad_;
  std::vector<std::unique_ptr<EventRouter>> routers_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stop_requested_ = false;
  std::size_t inputs_running_ = 0;
  std::vector<std::string> failed_inputs_;
  std::vector<std::jthread> threads_;
};

}  // namespace crosscut::agent
