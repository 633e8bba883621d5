#include "core/input_host_keys.hpp"

#include "agent/agent_options.hpp"
#include "agent/market_data_mapping.hpp"

namespace crosscut::core {

void check_input_host_keys(sdk::ConfigNode& item, const config::NodeLocation& where) {
  using sdk::ConfigNode;
  if (item.kind != ConfigNode::Kind::map) return;  // the component builder says what is wrong
  ConfigNode host_keys;
  host_keys.kind = ConfigNode::Kind::map;
  host_keys.mark = item.mark;
  for (const auto& key : input_host_keys())
    if (ConfigNode* n = item.find(key)) host_keys.entries.emplace_back(key, *n);
  config::validate_options(host_keys, {agent::input_format_option(), agent::market_data_option()},
                           where);
  const ConfigNode& format = *host_keys.find("format");
  const ConfigNode* md = item.find("market_data");
  if (format.scalar == "market_data") {
    if (!md)
      config::fail_at(format, {where.file, where.path + ".format"},
                      "format: market_data needs a 'market_data' map");
    agent::MarketDataMapping check(
        sdk::ConfigView(host_keys.find("market_data"), where.file, where.path + ".market_data"));
  } else if (md) {
    config::fail_at_key(*md, item, {where.file, where.path + ".market_data"},
                        "'market_data' needs format: market_data");
  }
  for (auto& [key, value] : host_keys.entries) {
    if (ConfigNode* n = item.find(key))
      *n = std::move(value);
    else
      item.entries.emplace_back(key, std::move(value));
  }
}

}  // namespace crosscut::core
