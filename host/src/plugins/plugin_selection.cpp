#include "plugins/plugin_selection.hpp"

#include <algorithm>

#include "config/suggestion.hpp"

namespace crosscut::plugins {

PluginSelection select_plugins(const sdk::ConfigNode& section, const config::NodeLocation& where,
                               const std::vector<std::string>& extra_paths) {
  sdk::ConfigView view(&section, where.file, where.path);
  PluginSelection out;
  out.search = plugin_search_path(extra_paths, view.get_string_list("paths"));
  out.check_permissions = view.get_bool("check_permissions", true);
  auto found = discover_plugins(out.search);

  const sdk::ConfigNode* load = section.find("load");
  if (!load || load->kind != sdk::ConfigNode::Kind::sequence) {
    out.files = std::move(found);
    return out;
  }
  std::vector<std::string> names;
  for (const auto& f : found) names.push_back(f.name);
  for (std::size_t i = 0; i < load->items.size(); ++i) {
    const sdk::ConfigNode& item = load->items[i];
    auto it = std::find_if(found.begin(), found.end(),
                           [&](const auto& f) { return f.name == item.scalar; });
    if (it == found.end()) {
      std::string dirs;
      for (const auto& d : out.search) dirs += (dirs.empty() ? "" : ":") + d.string();
      config::fail_at(
          item,
          {where.file, config::child_path(where.path, "load") + "[" + std::to_string(i) + "]"},
          "unknown plugin '" + item.scalar + "'" + config::did_you_mean(item.scalar, names) +
              " (searched " + dirs + ")");
    }
    out.files.push_back(*it);
  }
  return out;
}

void load_selected(const PluginSelection& selection, PluginSet& into) {
  for (const auto& f : selection.files) into.add(load_plugin(f.file, selection.check_permissions));
}

}  // namespace crosscut::plugins
