// The configuration loader: YAML text to a ConfigNode tree, then the checks of the top-level
// schema a runtime applies first, then the printer of `validate --print`. A ConfigError is
// the expected answer to a bad file; any other exception, a crash or a tree that breaks the
// loader's promises is a finding.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "agent/agent_options.hpp"
#include "config/config_printer.hpp"
#include "config/option_validator.hpp"
#include "config/yaml_tree_loader.hpp"
#include "core/config_extension.hpp"

namespace {

using crosscut::sdk::ConfigNode;

const std::string kFile = "fuzz.yaml";

// A fixed environment: an input means the same on every machine.
std::optional<std::string> environment(const std::string& name) {
  if (name == "HOME") return "/home/fuzz";
  if (name == "EMPTY") return "";
  if (name == "REDIS_PASSWORD") return "p@ss:w/rd";
  return std::nullopt;
}

[[noreturn]] void finding(const std::string& what) {
  std::fprintf(stderr, "config fuzz finding: %s\n", what.c_str());
  std::abort();
}

// What parse_yaml_tree promises of every node it returns.
void check_parsed(const ConfigNode& n) {
  if (n.mark.line < 1 || n.mark.column < 1) finding("a parsed node has no position");
  if (n.is_default) finding("a parsed node is marked as a default");
  switch (n.kind) {
    case ConfigNode::Kind::null:
    case ConfigNode::Kind::scalar:
      if (!n.items.empty() || !n.entries.empty()) finding("a scalar has children");
      break;
    case ConfigNode::Kind::sequence:
      if (!n.entries.empty()) finding("a sequence has map entries");
      for (const auto& item : n.items) check_parsed(item);
      break;
    case ConfigNode::Kind::map: {
      if (!n.items.empty()) finding("a map has sequence items");
      std::set<std::string_view> keys;
      for (const auto& [key, value] : n.entries) {
        if (!keys.insert(key).second) finding("duplicate key '" + key + "' was accepted");
        check_parsed(value);
      }
      break;
    }
  }
}

void check_error(const crosscut::sdk::ConfigError& e) {
  const std::string_view what = e.what();
  if (what.substr(0, kFile.size() + 1) != kFile + ":")
    finding("a configuration error does not name the file: " + std::string(what));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const crosscut::config::EnvLookup env = environment;
  static const crosscut::sdk::ConfigSchema schema =
      crosscut::core::root_schema(crosscut::agent::config_extension());
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    auto tree = crosscut::config::parse_yaml_tree(text, kFile, env);
    if (tree.root.kind != ConfigNode::Kind::map) finding("the root is not a map");
    check_parsed(tree.root);
    try {
      crosscut::config::validate_options(tree.root, schema, {tree.file, ""});
    } catch (const crosscut::sdk::ConfigError& e) {
      check_error(e);
      return 0;
    }
    (void)crosscut::config::print_yaml(tree.root);
  } catch (const crosscut::sdk::ConfigError& e) {
    check_error(e);
  } catch (const std::exception& e) {
    finding(std::string("unexpected exception: ") + e.what());
  }
  return 0;
}
