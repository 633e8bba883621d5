// The schema of the host's own configuration sections (DESIGN §5). Component sections
// (sinks, breakers.backend, rules, handlers, inputs) are checked against the schema of the
// plugin component they name, when that component is built.
#pragma once

#include "crosscut/sdk/config.hpp"

namespace crosscut::core {

// The top level of crosscut.yaml.
sdk::ConfigSchema host_schema();

// One breaker policy (breakers.defaults, and each entry of breakers.overrides without defaults).
sdk::ConfigSchema breaker_policy_schema(bool with_defaults);

}  // namespace crosscut::core
