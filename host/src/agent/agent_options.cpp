#include "agent/agent_options.hpp"

namespace crosscut::agent {

sdk::ConfigSchema agent_schema() {
  using sdk::OptionType;
  return {
      {.key = "health_interval",
       .type = OptionType::duration,
       .default_value = "60s",
       .description =
           "how often a health record (events, bad lines, queue, drops, sink failures) is logged",
       .positive = true},
      {.key = "shutdown_timeout",
       .type = OptionType::duration,
       .default_value = "10s",
       .description = "deadline to drain the bus and flush counters and sinks at stop",
       .positive = true},
      {.key = "bad_line_reports",
       .type = OptionType::integer,
       .default_value = "10",
       .description = "bad input lines logged per input per minute (every one is counted)",
       .min = 0},
  };
}

AgentOptions parse_agent_options(const sdk::ConfigView& agent) {
  AgentOptions o;
  o.health_interval =
      std::chrono::duration_cast<std::chrono::milliseconds>(agent.get_duration("health_interval"));
  o.shutdown_timeout =
      std::chrono::duration_cast<std::chrono::milliseconds>(agent.get_duration("shutdown_timeout"));
  if (o.health_interval.count() < 1) agent.fail("health_interval", "must be at least 1ms");
  if (o.shutdown_timeout.count() < 1) agent.fail("shutdown_timeout", "must be at least 1ms");
  o.bad_line_reports = static_cast<std::uint32_t>(agent.get_int("bad_line_reports"));
  return o;
}

}  // namespace crosscut::agent
