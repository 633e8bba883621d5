// Builds an sdk::ConfigNode tree from YAML text, for tests of configuration readers.
#pragma once

#include <yaml-cpp/yaml.h>

#include <memory>
#include <string>

#include "crosscut/sdk/config.hpp"

namespace crosscut::testing {

inline sdk::ConfigNode to_config_node(const YAML::Node& n) {
  sdk::ConfigNode out;
  out.mark = {n.Mark().line + 1, n.Mark().column + 1};
  if (n.IsScalar()) {
    out.kind = sdk::ConfigNode::Kind::scalar;
    out.scalar = n.Scalar();
    out.quoted = n.Tag() == "!";
  } else if (n.IsSequence()) {
    out.kind = sdk::ConfigNode::Kind::sequence;
    for (const auto& item : n) out.items.push_back(to_config_node(item));
  } else if (n.IsMap()) {
    out.kind = sdk::ConfigNode::Kind::map;
    for (const auto& kv : n) out.entries.emplace_back(kv.first.Scalar(), to_config_node(kv.second));
  }
  return out;
}

// Owns the tree a ConfigView points into.
struct YamlConfig {
  explicit YamlConfig(const std::string& text) : root(to_config_node(YAML::Load(text))) {}
  sdk::ConfigView view(std::string path = "logging") const {
    return sdk::ConfigView(&root, std::make_shared<const std::string>("test.yaml"),
                           std::move(path));
  }
  sdk::ConfigNode root;
};

}  // namespace crosscut::testing
