// Validation of what an embedding application adds to the configuration (ConfigExtension):
// its top-level sections and the keys it reads on `inputs:` items.
#pragma once

#include <string>
#include <vector>

#include "config/option_validator.hpp"
#include "crosscut/runtime.hpp"

namespace crosscut::core {

// The top level of the file: the host's sections, then the extension's.
sdk::ConfigSchema root_schema(const ConfigExtension& extension);

// Refuses a map none of whose top-level keys is a section or close to one's name (a password
// file read as YAML is such a map) without quoting any of it: what is not a configuration
// may be secret. Throws ConfigError naming the file only.
void refuse_foreign_document(const sdk::ConfigNode& root, const sdk::ConfigSchema& schema,
                             const std::string& file);

// The extension's input keys, for the component builder's `reserved` list.
std::vector<std::string> input_key_names(const ConfigExtension& extension);

// Validates the extension's keys of one input item (filling in their defaults, leaving the
// plugin's own keys to the component builder), then runs the extension's check on the item.
void check_input_keys(sdk::ConfigNode& item, const config::NodeLocation& where,
                      const ConfigExtension& extension);

}  // namespace crosscut::core
