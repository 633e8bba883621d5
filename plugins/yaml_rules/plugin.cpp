#include "plugin.hpp"

#include "declarative_rule.hpp"

namespace crosscut::yaml_rules {

sdk::PluginDescriptor describe() {
  return {"yaml_rules",
          "1.0.0",
          {sdk::make_factory<DeclarativeRule>(
              "declarative", "An exception rule written in YAML: {name, match, then}")}};
}

}  // namespace crosscut::yaml_rules

CROSSCUT_PLUGIN(crosscut::yaml_rules::describe)
