// The schema of the host's own configuration sections. Component sections
// (sinks, breakers.backend, rules, handlers, inputs) are checked against the schema of the
// plugin component they name, when that component is built.
#pragma once

#include "crosscut/sdk/config.hpp"

namespace crosscut::core {

// The top level of crosscut.yaml.
sdk::ConfigSchema host_schema();

}  // namespace crosscut::core
