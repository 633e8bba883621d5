#include "core/config_extension.hpp"

#include <algorithm>

#include "config/suggestion.hpp"
#include "core/host_schema.hpp"

namespace crosscut::core {

sdk::ConfigSchema root_schema(const ConfigExtension& extension) {
  sdk::ConfigSchema schema = host_schema();
  schema.insert(schema.end(), extension.sections.begin(), extension.sections.end());
  return schema;
}

void refuse_foreign_document(const sdk::ConfigNode& root, const sdk::ConfigSchema& schema,
                             const std::string& file) {
  if (root.entries.empty()) return;  // empty: every default
  std::vector<std::string> sections;
  for (const auto& spec : schema) sections.push_back(spec.key);
  for (const auto& [key, value] : root.entries)
    if (std::find(sections.begin(), sections.end(), key) != sections.end() ||
        !config::closest_match(key, sections).empty())
      return;
  throw sdk::ConfigError(file +
                         ": not a crosscut configuration: none of its top-level keys is a "
                         "section (expected 'crosscut: 1' and sections such as 'logging:', "
                         "'breakers:', 'sinks:')");
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
