// Reads YAML text into an sdk::ConfigNode tree: positions kept, `${VAR}` / `${VAR:-default}`
// expanded from the environment, duplicate keys refused, alias expansion and nesting bounded.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "crosscut/sdk/config.hpp"

namespace crosscut::config {

// Looks up an environment variable; nullopt when unset.
using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;

EnvLookup process_environment();

struct LoadedTree {
  std::shared_ptr<const std::string> file;  // the name used in messages
  sdk::ConfigNode root;                     // a map (an empty document gives an empty map)
};

// Parses `text`; `file` names it in messages. Throws sdk::ConfigError with one line
// "file:line:column: problem".
LoadedTree parse_yaml_tree(std::string_view text, const std::string& file,
                           const EnvLookup& env = process_environment());

// Reads and parses a file (refusing unreadable files, directories and files over 16 MiB).
LoadedTree load_yaml_file(const std::string& path, const EnvLookup& env = process_environment());

}  // namespace crosscut::config
