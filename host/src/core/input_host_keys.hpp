// `format` and `market_data`: the host's keys on an item of `inputs:`, next to the input
// plugin's own options.
#pragma once

#include "config/option_validator.hpp"

namespace crosscut::core {

// The keys check_input_host_keys() reads, for the component builder's `reserved` list.
inline const std::vector<std::string>& input_host_keys() {
  static const std::vector<std::string> keys{"format", "market_data"};
  return keys;
}

// Validates the host keys of one input item (filling in their defaults) and checks that
// `market_data` is given exactly when format is market_data. Problems throw ConfigError.
void check_input_host_keys(sdk::ConfigNode& item, const config::NodeLocation& where);

}  // namespace crosscut::core
