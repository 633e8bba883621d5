// What the agent adds to the configuration: the `agent:` section (how `crosscut run` reports
// health, reports bad input and stops) and the `format` / `market_data` keys of inputs.
#pragma once

#include <chrono>
#include <cstdint>

#include "crosscut/runtime.hpp"
#include "crosscut/sdk/options.hpp"

namespace crosscut::agent {

struct AgentOptions {
  std::chrono::milliseconds health_interval{60'000};   // a health record in the log this often
  std::chrono::milliseconds shutdown_timeout{10'000};  // drain and flush within this at stop
  std::uint32_t bad_line_reports = 10;                 // logged per input per minute; all counted
};

// Durations are rounded up to whole milliseconds, so any positive value works.
const sdk::OptionTable<AgentOptions>& agent_options_table();

// For RuntimeOptions::extension: every command that loads a configuration passes it, so that
// `validate` checks these keys exactly as `run` does.
ConfigExtension config_extension();

}  // namespace crosscut::agent
