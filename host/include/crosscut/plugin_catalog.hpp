// PluginCatalog: the plugins a configuration would load, loaded for inspection only (what
// `crosscut plugins` lists and describes). No component is built.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "crosscut/export.hpp"
#include "crosscut/runtime.hpp"

namespace crosscut {

class CROSSCUT_API PluginCatalog {
 public:
  // Searches `extra_paths`, then CROSSCUT_PLUGIN_PATH, then (with a configuration file) its
  // plugins.paths, then the install default; loads every plugin found, or those of
  // plugins.load. A plugin that cannot be loaded is listed in errors(), not thrown; an
  // unreadable configuration file throws ConfigurationError.
  static PluginCatalog load(const std::string& config_file,
                            const std::vector<std::string>& extra_paths);
  ~PluginCatalog();
  PluginCatalog(PluginCatalog&&) noexcept;
  PluginCatalog& operator=(PluginCatalog&&) noexcept;

  // Valid while the catalog lives (descriptors point into the loaded libraries).
  const std::vector<LoadedPluginInfo>& plugins() const;
  const std::vector<std::string>& errors() const;    // one line per plugin that failed to load
  const std::vector<std::string>& searched() const;  // the folders, in search order

 private:
  struct Impl;
  explicit PluginCatalog(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace crosscut
