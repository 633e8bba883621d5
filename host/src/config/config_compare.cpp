#include "config/config_compare.hpp"

namespace crosscut::config {

bool same_config(const sdk::ConfigNode& a, const sdk::ConfigNode& b) {
  using Kind = sdk::ConfigNode::Kind;
  if (a.kind != b.kind) return false;
  switch (a.kind) {
    case Kind::null:
      return true;
    case Kind::scalar:
      return a.scalar == b.scalar && a.quoted == b.quoted;
    case Kind::sequence:
      if (a.items.size() != b.items.size()) return false;
      for (std::size_t i = 0; i < a.items.size(); ++i)
        if (!same_config(a.items[i], b.items[i])) return false;
      return true;
    case Kind::map:
      if (a.entries.size() != b.entries.size()) return false;
      for (const auto& [key, value] : a.entries) {
        const sdk::ConfigNode* other = b.find(key);
        if (!other || !same_config(value, *other)) return false;
      }
      return true;
  }
  return false;
}

}  // namespace crosscut::config
