// Configuration trees built by hand, for tests of option readers and component factories
// that do not go through YAML. Positions are whatever the test gives (file:line:column in
// error messages).
#pragma once

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "crosscut/sdk/config.hpp"

namespace crosscut::testing {

inline sdk::ConfigNode scalar(std::string text, int line = 0, int column = 0) {
  sdk::ConfigNode n;
  n.kind = sdk::ConfigNode::Kind::scalar;
  n.scalar = std::move(text);
  n.mark = {line, column};
  return n;
}

inline sdk::ConfigNode map(std::vector<std::pair<std::string, sdk::ConfigNode>> entries,
                           int line = 0, int column = 0) {
  sdk::ConfigNode n;
  n.kind = sdk::ConfigNode::Kind::map;
  n.entries = std::move(entries);
  n.mark = {line, column};
  return n;
}

inline sdk::ConfigNode sequence(std::vector<sdk::ConfigNode> items, int line = 0, int column = 0) {
  sdk::ConfigNode n;
  n.kind = sdk::ConfigNode::Kind::sequence;
  n.items = std::move(items);
  n.mark = {line, column};
  return n;
}

// The message of the sdk::ConfigError `f` throws, or "(no error)".
inline std::string config_error(const std::function<void()>& f) {
  try {
    f();
  } catch (const sdk::ConfigError& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace crosscut::testing
