#include "plugins/plugin_set.hpp"

#include <cstdlib>

namespace crosscut::plugins {

void PluginSet::add(LoadedPlugin plugin) {
  for (const auto& f : plugin.descriptor->components) {
    if (auto existing = find(f.kind, f.type)) {
      throw PluginLoadError("plugin " + plugin.file.string() + ": " +
                            std::string(sdk::kind_name(f.kind)) + " type '" + f.type +
                            "' is already provided by plugin " + existing->plugin->file.string());
    }
  }
  for (std::size_t i = 0; i < plugin.descriptor->components.size(); ++i) {
    for (std::size_t j = 0; j < i; ++j) {
      const auto& a = plugin.descriptor->components[i];
      const auto& b = plugin.descriptor->components[j];
      if (a.kind == b.kind && a.type == b.type)
        throw PluginLoadError("plugin " + plugin.file.string() + ": declares " +
                              std::string(sdk::kind_name(a.kind)) + " type '" + a.type + "' twice");
    }
  }
  plugins_.push_back(std::move(plugin));
}

std::optional<FactoryRef> PluginSet::find(sdk::ComponentKind kind, std::string_view type) const {
  for (const auto& p : plugins_)
    for (const auto& f : p.descriptor->components)
      if (f.kind == kind && f.type == type) return FactoryRef{&f, &p};
  return std::nullopt;
}

std::vector<std::string> PluginSet::types(sdk::ComponentKind kind) const {
  std::vector<std::string> out;
  for (const auto& p : plugins_)
    for (const auto& f : p.descriptor->components)
      if (f.kind == kind) out.push_back(f.type);
  return out;
}

std::vector<std::filesystem::path> plugin_search_path(const std::vector<std::string>& first,
                                                      const std::vector<std::string>& configured) {
  std::vector<std::filesystem::path> out;
  if (const char* env = std::getenv("CROSSCUT_PLUGIN_PATH")) {
    std::string s(env);
    std::size_t start = 0;
    while (start <= s.size()) {
      auto end = s.find(':', start);
      if (end == std::string::npos) end = s.size();
      if (end > start) out.emplace_back(s.substr(start, end - start));
      start = end + 1;
    }
  }
  for (const auto& p : first) out.emplace_back(p);
  for (const auto& p : configured) out.emplace_back(p);
  out.emplace_back(CROSSCUT_DEFAULT_PLUGIN_DIR);
  return out;
}

}  // namespace crosscut::plugins
