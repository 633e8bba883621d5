// The `agent:` section: how `crosscut run` reports health, reports bad input and stops.
#pragma once

#include <chrono>
#include <cstdint>

#include "crosscut/sdk/config.hpp"

namespace crosscut::agent {

struct AgentOptions {
  std::chrono::milliseconds health_interval{60'000};   // a health record in the log this often
  std::chrono::milliseconds shutdown_timeout{10'000};  // drain and flush within this at stop
  std::uint32_t bad_line_reports = 10;                 // logged per input per minute; all counted
};

sdk::ConfigSchema agent_schema();
AgentOptions parse_agent_options(const sdk::ConfigView& agent);

}  // namespace crosscut::agent
