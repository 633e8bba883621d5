#include "agent/agent_options.hpp"

#include "agent/market_data_mapping.hpp"

namespace crosscut::agent {

const sdk::OptionTable<AgentOptions>& agent_options_table() {
  using sdk::bind_option;
  static const sdk::OptionTable<AgentOptions> table{
      bind_option("health_interval", &AgentOptions::health_interval,
                  "how often a health record (events, bad lines, queue, drops, sink failures) is "
                  "logged")
          .positive()
          .min(sdk::kMinimumInterval),
      bind_option("shutdown_timeout", &AgentOptions::shutdown_timeout,
                  "deadline to drain the bus and flush counters and sinks at stop")
          .positive(),
      bind_option("bad_line_reports", &AgentOptions::bad_line_reports,
                  "bad input lines logged per input per minute (every one is counted)"),
  };
  return table;
}

ConfigExtension config_extension() {
  ConfigExtension e;
  sdk::OptionSpec agent;
  agent.key = "agent";
  agent.type = sdk::OptionType::object;
  agent.description = "agent-mode settings";
  agent.children = agent_options_table().schema();
  e.sections = {agent};
  e.input_keys = {input_format_option(), market_data_option()};
  e.check_input = [](const sdk::ConfigView& item) {
    if (item.get_string("format") == "market_data") {
      if (!item.has("market_data"))
        item.fail("format", "format: market_data needs a 'market_data' map");
      MarketDataMapping check(item.child("market_data"));  // its regex compiles, fields are set
    } else if (item.has("market_data")) {
      item.fail("market_data", "'market_data' needs format: market_data");
    }
  };
  return e;
}

}  // namespace crosscut::agent
