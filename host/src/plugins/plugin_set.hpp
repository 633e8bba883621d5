// The plugins a runtime has loaded and the index of their component factories.
#pragma once

#include <deque>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "crosscut/sdk/plugin.hpp"
#include "plugins/plugin_library.hpp"

namespace crosscut::plugins {

struct FactoryRef {
  const sdk::ComponentFactory* factory = nullptr;
  const LoadedPlugin* plugin = nullptr;
};

class PluginSet {
 public:
  // Adds a loaded plugin. Throws PluginLoadError when one of its components claims a
  // kind/type another loaded plugin already provides (naming both files).
  void add(LoadedPlugin plugin);

  std::optional<FactoryRef> find(sdk::ComponentKind kind, std::string_view type) const;
  // Every type provided for `kind`, for suggestions.
  std::vector<std::string> types(sdk::ComponentKind kind) const;
  const std::deque<LoadedPlugin>& plugins() const { return plugins_; }

 private:
  std::deque<LoadedPlugin> plugins_;  // a deque: FactoryRef keeps pointers into it
};

// The folders searched for plugins, in order: CROSSCUT_PLUGIN_PATH (colon-separated),
// `first` (e.g. --path arguments), `configured` (plugins.paths), then the install default.
std::vector<std::filesystem::path> plugin_search_path(const std::vector<std::string>& first,
                                                      const std::vector<std::string>& configured);

}  // namespace crosscut::plugins
