// The `breakers:` section: the policy table, the backend default, and the reader of the
// defaults and per-resource overrides.
#pragma once

#include <map>
#include <string>

#include "config/option_validator.hpp"
#include "crosscut/sdk/breaker.hpp"
#include "crosscut/sdk/options.hpp"

namespace crosscut {

// One breaker policy; its defaults are sdk::BreakerPolicy's own.
const sdk::OptionTable<sdk::BreakerPolicy>& breaker_policy_table();

// backend (default {type: memory}), defaults, overrides.
sdk::ConfigSchema breakers_schema();

struct BreakerConfig {
  sdk::BreakerPolicy defaults;
  std::map<std::string, sdk::BreakerPolicy> overrides;  // by resource key
  std::string instance;  // breakers.instance: empty for the default id
};

// Reads a validated `breakers:` section: each override is validated against the policy table
// without defaults and read over breakers.defaults; every policy is checked as a whole
// (sdk::check_policy). Problems throw sdk::ConfigError at the policy.
BreakerConfig read_breaker_config(sdk::ConfigNode& breakers, const config::NodeLocation& where);

}  // namespace crosscut
