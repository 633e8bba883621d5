// Finding and loading plugin shared libraries, refusing the ones that must not run.
#pragma once

#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "crosscut/sdk/plugin.hpp"

namespace crosscut::plugins {

// A refusal or failure to load one plugin; what() is one line naming the file.
class PluginLoadError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A loaded plugin. `library` keeps the shared library mapped; every component created from
// the plugin holds a copy, so the code outlives the objects it made.
struct LoadedPlugin {
  std::string name;
  std::string version;
  std::filesystem::path file;
  std::shared_ptr<void> library;
  const sdk::PluginDescriptor* descriptor = nullptr;
};

struct PluginFile {
  std::string name;  // libcrosscut-NAME.so or NAME.so -> NAME
  std::filesystem::path file;
};

// The plugin name a file provides, or "" when the file is not a plugin candidate.
std::string plugin_name_of(const std::filesystem::path& file);

// Plugin files in `dirs`, searched in order; the first file providing a name wins. Missing
// folders are skipped.
std::vector<PluginFile> discover_plugins(const std::vector<std::filesystem::path>& dirs);

// Loads and checks one plugin: entry point present, SDK ABI and compiler ABI equal to the
// host's, and (when check_permissions) neither the file nor its folder writable by anyone but
// the owner. Throws PluginLoadError.
LoadedPlugin load_plugin(const std::filesystem::path& file, bool check_permissions);

}  // namespace crosscut::plugins
