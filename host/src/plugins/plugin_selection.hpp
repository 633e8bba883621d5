// The `plugins:` section: which plugin files a runtime loads, from where.
#pragma once

#include <string>
#include <vector>

#include "config/option_validator.hpp"
#include "plugins/plugin_set.hpp"

namespace crosscut::plugins {

struct PluginSelection {
  std::vector<std::filesystem::path> search;  // the folders searched, in order
  std::vector<PluginFile> files;              // what to load, in order
  bool check_permissions = true;
};

// Discovers plugins on the search path (`extra_paths` first, see plugin_search_path) and
// applies `plugins.load` (every plugin found when absent). An unknown name is a ConfigError at
// its list entry, with a suggestion and the folders searched.
PluginSelection select_plugins(const sdk::ConfigNode& section, const config::NodeLocation& where,
                               const std::vector<std::string>& extra_paths);

// Loads every selected file into `into`; a refusal is a StartupError-worthy PluginLoadError.
void load_selected(const PluginSelection& selection, PluginSet& into);

}  // namespace crosscut::plugins
