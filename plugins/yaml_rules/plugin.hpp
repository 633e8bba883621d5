// The yaml_rules plugin: exception_rule `declarative` (rules written in YAML).
#pragma once

#include "crosscut/sdk/plugin.hpp"

namespace crosscut::yaml_rules {

sdk::PluginDescriptor describe();

}  // namespace crosscut::yaml_rules
