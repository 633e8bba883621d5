#include "plugins/plugin_library.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <boost/dll/shared_library.hpp>
#include <boost/system/system_error.hpp>
#include <set>

namespace crosscut::plugins {
namespace {

namespace fs = std::filesystem;

// Boost.DLL wraps dlerror() as "... (dlerror system message: TEXT): errno text"; users need
// TEXT only.
std::string dlerror_text(const std::string& what) {
  const std::string marker = "dlerror system message: ";
  auto start = what.find(marker);
  if (start == std::string::npos) return what;
  start += marker.size();
  auto end = what.rfind("): ");
  if (end == std::string::npos || end < start) end = what.rfind(')');
  if (end == std::string::npos || end < start) return what.substr(start);
  return what.substr(start, end - start);
}

void check_not_writable_by_others(const fs::path& p, const fs::path& plugin) {
  struct stat st {};
  if (stat(p.c_str(), &st) != 0) return;  // loading reports a missing file itself
  if (st.st_mode & (S_IWGRP | S_IWOTH)) {
    throw PluginLoadError("plugin " + plugin.string() + ": refused: " +
                          (p == plugin ? std::string("the file") : "its folder " + p.string()) +
                          " is writable by users other than its owner (fix with chmod go-w, or "
                          "set plugins.check_permissions: false)");
  }
}

}  // namespace

std::string plugin_name_of(const fs::path& file) {
  if (file.extension() != ".so") return {};
  std::string stem = file.stem().string();
  const std::string prefix = "libcrosscut-";
  if (stem.rfind(prefix, 0) == 0) return stem.substr(prefix.size());
  if (stem.rfind("lib", 0) == 0) return {};  // some other library, not a plugin
  return stem;
}

std::vector<PluginFile> discover_plugins(const std::vector<fs::path>& dirs) {
  std::vector<PluginFile> out;
  std::set<std::string> seen;
  for (const auto& dir : dirs) {
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) continue;
    std::vector<fs::path> files;
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
      if (entry.is_regular_file(ec) || entry.is_symlink(ec)) files.push_back(entry.path());
    }
    std::sort(files.begin(), files.end());
    for (const auto& f : files) {
      std::string name = plugin_name_of(f);
      if (name.empty() || !seen.insert(name).second) continue;
      out.push_back({name, f});
    }
  }
  return out;
}

LoadedPlugin load_plugin(const fs::path& file, bool check_permissions) {
  if (check_permissions) {
    check_not_writable_by_others(file.parent_path().empty() ? fs::path(".") : file.parent_path(),
                                 file);
    check_not_writable_by_others(file, file);
  }
  auto lib = std::make_shared<boost::dll::shared_library>();
  try {
    lib->load(boost::dll::fs::path(file.string()),
              boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local);
  } catch (const boost::system::system_error& e) {
    throw PluginLoadError("plugin " + file.string() + ": cannot load: " + dlerror_text(e.what()));
  } catch (const std::exception& e) {
    throw PluginLoadError("plugin " + file.string() + ": cannot load: " + dlerror_text(e.what()));
  }
  if (!lib->has(CROSSCUT_PLUGIN_ENTRY_SYMBOL)) {
    throw PluginLoadError("plugin " + file.string() + ": not a crosscut plugin (no '" +
                          CROSSCUT_PLUGIN_ENTRY_SYMBOL + "' entry point)");
  }
  using Entry = const crosscut_plugin_info*();
  const crosscut_plugin_info* info = lib->get<Entry>(CROSSCUT_PLUGIN_ENTRY_SYMBOL)();
  if (info == nullptr)
    throw PluginLoadError("plugin " + file.string() + ": entry point returned nothing");
  if (info->sdk_abi_version != CROSSCUT_SDK_ABI_VERSION) {
    throw PluginLoadError("plugin " + file.string() + ": built against SDK ABI " +
                          std::to_string(info->sdk_abi_version) + ", this host has SDK ABI " +
                          std::to_string(CROSSCUT_SDK_ABI_VERSION) + "; rebuild the plugin");
  }
  const std::string plugin_abi = info->compiler_abi ? info->compiler_abi : "(none)";
  if (plugin_abi != CROSSCUT_SDK_COMPILER_ABI) {
    throw PluginLoadError("plugin " + file.string() + ": built with compiler ABI " + plugin_abi +
                          ", this host has " + CROSSCUT_SDK_COMPILER_ABI + "; rebuild the plugin");
  }
  if (info->descriptor == nullptr || info->name == nullptr)
    throw PluginLoadError("plugin " + file.string() + ": entry point returned no descriptor");
  LoadedPlugin out;
  out.descriptor = static_cast<const sdk::PluginDescriptor*>(info->descriptor);
  out.name = info->name;
  out.version = info->version ? info->version : "";
  out.file = file;
  out.library = std::move(lib);
  return out;
}

}  // namespace crosscut::plugins
