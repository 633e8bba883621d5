#include "core/config_extension.hpp"

#include "core/host_schema.hpp"

namespace crosscut::core {

sdk::ConfigSchema root_schema(const ConfigExtension& extension) {
  sdk::ConfigSchema schema = host_schema();
  schema.insert(schema.end(), extension.sections.begin(), extension.sections.end());
  return schema;
}

std::vector<std::string> input_key_names(const ConfigExtension& extension) {
  std::vector<std::string> names;
  for (const auto& spec : extension.input_keys) names.push_back(spec.key);
  return names;
}

void check_input_keys(sdk::ConfigNode& item, const config::NodeLocation& where,
                      const ConfigExtension& extension) {
  using sdk::ConfigNode;
  if (item.kind != ConfigNode::Kind::map) return;  // the component builder says what is wrong
  // Validate the extension's keys apart from the plugin's, then put them back with defaults.
  ConfigNode keys;
  keys.kind = ConfigNode::Kind::map;
  keys.mark = item.mark;
  for (const auto& spec : extension.input_keys)
    if (ConfigNode* n = item.find(spec.key)) keys.entries.emplace_back(spec.key, *n);
  config::validate_options(keys, extension.input_keys, where);
  for (auto& [key, value] : keys.entries) {
    if (ConfigNode* n = item.find(key))
      *n = std::move(value);
    else
      item.entries.emplace_back(key, std::move(value));
  }
  if (extension.check_input) extension.check_input(sdk::ConfigView(&item, where.file, where.path));
}

}  // namespace crosscut::core
