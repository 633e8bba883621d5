#include "crosscut/plugin_catalog.hpp"

#include <algorithm>

#include "config/yaml_tree_loader.hpp"
#include "plugins/plugin_set.hpp"

namespace crosscut {

struct PluginCatalog::Impl {
  plugins::PluginSet set;  // declared first: destroyed after the views into it
  std::vector<LoadedPluginInfo> plugins;
  std::vector<std::string> errors;
  std::vector<std::string> searched;
};

PluginCatalog PluginCatalog::load(const std::string& config_file,
                                  const std::vector<std::string>& extra_paths) {
  std::vector<std::string> configured;
  std::vector<std::string> only;
  bool check_permissions = true;
  if (!config_file.empty()) {
    auto tree = config::load_yaml_file(config_file);
    sdk::ConfigView section = sdk::ConfigView(&tree.root, tree.file, "").child("plugins");
    configured = section.get_string_list("paths");
    only = section.get_string_list("load");
    check_permissions = section.get_bool("check_permissions", true);
  }
  auto impl = std::make_unique<Impl>();
  const auto search = plugins::plugin_search_path(extra_paths, configured);
  for (const auto& d : search) impl->searched.push_back(d.string());
  for (const auto& f : plugins::discover_plugins(search)) {
    if (!only.empty() && std::find(only.begin(), only.end(), f.name) == only.end()) continue;
    try {
      impl->set.add(plugins::load_plugin(f.file, check_permissions));
    } catch (const std::exception& e) {
      impl->errors.emplace_back(e.what());
    }
  }
  for (const auto& p : impl->set.plugins())
    impl->plugins.push_back({p.name, p.version, p.file.string(), p.descriptor});
  return PluginCatalog(std::move(impl));
}

PluginCatalog::PluginCatalog(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
PluginCatalog::~PluginCatalog() = default;
PluginCatalog::PluginCatalog(PluginCatalog&&) noexcept = default;
PluginCatalog& PluginCatalog::operator=(PluginCatalog&&) noexcept = default;

const std::vector<LoadedPluginInfo>& PluginCatalog::plugins() const {
  return impl_->plugins;
}
const std::vector<std::string>& PluginCatalog::errors() const {
  return impl_->errors;
}
const std::vector<std::string>& PluginCatalog::searched() const {
  return impl_->searched;
}

}  // namespace crosscut
