// Checks options against a component's (or a host section's) declared schema and fills in
// defaults, so that no component hand-writes that code.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "crosscut/sdk/config.hpp"

namespace crosscut::config {

// Where a node sits: for messages "file:line:column: path: problem".
struct NodeLocation {
  std::shared_ptr<const std::string> file;
  std::string path;  // "" for the root
};

std::string child_path(const std::string& path, const std::string& key);

// Throws sdk::ConfigError naming file:line:column and the key path of `node`.
[[noreturn]] void fail_at(const sdk::ConfigNode& node, const NodeLocation& where,
                          const std::string& problem);

// The same, positioned at the key of the map entry whose value is `value` (falling back to
// the parent map's position).
[[noreturn]] void fail_at_key(const sdk::ConfigNode& value, const sdk::ConfigNode& parent,
                              const NodeLocation& where, const std::string& problem);

// Validates a map node against `schema`: unknown keys (with a suggestion), types, choices,
// bounds, required keys; then inserts defaults for absent keys. `reserved` keys are allowed
// without appearing in the schema (e.g. `type`, read by the host).
void validate_options(sdk::ConfigNode& node, const sdk::ConfigSchema& schema,
                      const NodeLocation& where, const std::vector<std::string>& reserved = {});

// The scalar text of a required string key, or a ConfigError at the map's position.
const sdk::ConfigNode& require_key(const sdk::ConfigNode& map, const std::string& key,
                                   const NodeLocation& where);

}  // namespace crosscut::config
