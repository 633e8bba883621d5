#include "agent/agent_options.hpp"

namespace crosscut::agent {

const sdk::OptionTable<AgentOptions>& agent_options_table() {
  using sdk::bind_option;
  static const sdk::OptionTable<AgentOptions> table{
      bind_option("health_interval", &AgentOptions::health_interval,
                  "how often a health record (events, bad lines, queue, drops, sink failures) is "
                  "logged")
          .positive(),
      bind_option("shutdown_timeout", &AgentOptions::shutdown_timeout,
                  "deadline to drain the bus and flush counters and sinks at stop")
          .positive(),
      bind_option("bad_line_reports", &AgentOptions::bad_line_reports,
                  "bad input lines logged per input per minute (every one is counted)"),
  };
  return table;
}

}  // namespace crosscut::agent
