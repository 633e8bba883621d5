#include "config/option_validator.hpp"

#include "crosscut/sdk/options.hpp"

#include "config/suggestion.hpp"
#include "config/yaml_tree_loader.hpp"

namespace crosscut::config {
namespace {

using sdk::ConfigNode;
using sdk::OptionSpec;
using sdk::OptionType;

std::string type_phrase(OptionType t) {
  switch (t) {
    case OptionType::string:
      return "a string";
    case OptionType::boolean:
      return "true or false";
    case OptionType::integer:
      return "an integer";
    case OptionType::number:
      return "a number";
    case OptionType::duration:
      return "a duration such as 250ms, 60s or 5m";
    case OptionType::size:
      return "a size such as 512, 64KiB or 10MiB";
    case OptionType::string_list:
      return "a list of strings";
    case OptionType::string_map:
      return "a map of strings";
    case OptionType::object:
      return "a map";
    case OptionType::object_list:
      return "a list of maps";
    case OptionType::any:
      return "any value";
  }
  return "a value";
}

std::string kind_phrase(const ConfigNode& n) {
  switch (n.kind) {
    case ConfigNode::Kind::null:
      return "nothing";
    case ConfigNode::Kind::scalar: {
      std::string text = n.scalar.size() > 60 ? n.scalar.substr(0, 57) + "..." : n.scalar;
      return n.quoted ? "the quoted string '" + text + "'" : "'" + text + "'";
    }
    case ConfigNode::Kind::sequence:
      return "a list";
    case ConfigNode::Kind::map:
      return "a map";
  }
  return "?";
}

void check_value(ConfigNode& n, const OptionSpec& spec, const NodeLocation& at) {
  auto expect = [&](bool ok) {
    if (!ok) fail_at(n, at, "expected " + type_phrase(spec.type) + ", got " + kind_phrase(n));
  };
  switch (spec.type) {
    case OptionType::any:
      return;
    case OptionType::string:
      expect(n.kind == ConfigNode::Kind::scalar);
      if (!spec.choices.empty()) {
        bool found = false;
        for (const auto& c : spec.choices) found = found || c == n.scalar;
        if (!found) {
          std::string list;
          for (const auto& c : spec.choices) list += (list.empty() ? "" : ", ") + c;
          fail_at(
              n, at,
              "'" + n.scalar + "' is not one of: " + list + did_you_mean(n.scalar, spec.choices));
        }
      }
      return;
    case OptionType::boolean:
      expect(n.kind == ConfigNode::Kind::scalar && !n.quoted && sdk::parse_bool(n.scalar));
      return;
    case OptionType::integer: {
      expect(n.kind == ConfigNode::Kind::scalar && !n.quoted);
      auto v = sdk::parse_int(n.scalar);
      expect(v.has_value());
      if (spec.min && spec.max && (*v < *spec.min || *v > *spec.max))
        fail_at(n, at,
                "must be between " + std::to_string(*spec.min) + " and " +
                    std::to_string(*spec.max) + " (got " + n.scalar + ")");
      if (spec.min && *v < *spec.min)
        fail_at(n, at, "must be >= " + std::to_string(*spec.min) + " (got " + n.scalar + ")");
      if (spec.max && *v > *spec.max)
        fail_at(n, at, "must be at most " + std::to_string(*spec.max) + " (got " + n.scalar + ")");
      return;
    }
    case OptionType::number: {
      expect(n.kind == ConfigNode::Kind::scalar && !n.quoted);
      auto v = sdk::parse_number(n.scalar);
      expect(v.has_value());
      if (spec.positive && *v <= 0) fail_at(n, at, "must be > 0 (got " + n.scalar + ")");
      return;
    }
    case OptionType::duration: {
      expect(n.kind == ConfigNode::Kind::scalar);
      std::string err;
      auto v = sdk::parse_duration(n.scalar, &err);
      if (!v) fail_at(n, at, err);
      if (spec.positive && v->count() <= 0) fail_at(n, at, "must be > 0 (got " + n.scalar + ")");
      const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(*v);
      if (spec.min && ns.count() < *spec.min)
        fail_at(n, at,
                "must be at least " +
                    sdk::detail::duration_text(std::chrono::nanoseconds(*spec.min)) + " (got " +
                    n.scalar + ")");
      if (spec.max && ns.count() > *spec.max)
        fail_at(n, at,
                "must be at most " +
                    sdk::detail::duration_text(std::chrono::nanoseconds(*spec.max)) + " (got " +
                    n.scalar + ")");
      return;
    }
    case OptionType::size: {
      expect(n.kind == ConfigNode::Kind::scalar);
      std::string err;
      auto v = sdk::parse_size(n.scalar, &err);
      if (!v) fail_at(n, at, err);
      if (spec.positive && *v == 0) fail_at(n, at, "must be > 0 (got " + n.scalar + ")");
      const auto bytes = static_cast<std::int64_t>(*v);
      if (spec.min && bytes < *spec.min)
        fail_at(n, at,
                "must be at least " +
                    sdk::detail::size_text(static_cast<std::uint64_t>(*spec.min)) + " (got " +
                    n.scalar + ")");
      if (spec.max && bytes > *spec.max)
        fail_at(n, at,
                "must be at most " + sdk::detail::size_text(static_cast<std::uint64_t>(*spec.max)) +
                    " (got " + n.scalar + ")");
      return;
    }
    case OptionType::string_list:
      expect(n.kind == ConfigNode::Kind::sequence);
      for (std::size_t i = 0; i < n.items.size(); ++i) {
        if (n.items[i].kind != ConfigNode::Kind::scalar)
          fail_at(n.items[i], {at.file, at.path + "[" + std::to_string(i) + "]"},
                  "expected a string, got " + kind_phrase(n.items[i]));
      }
      return;
    case OptionType::string_map:
      expect(n.kind == ConfigNode::Kind::map);
      for (auto& [k, v] : n.entries) {
        if (v.kind != ConfigNode::Kind::scalar)
          fail_at(v, {at.file, child_path(at.path, k)}, "expected a string, got " + kind_phrase(v));
      }
      return;
    case OptionType::object:
      expect(n.kind == ConfigNode::Kind::map);
      validate_options(n, spec.children, at);
      return;
    case OptionType::object_list:
      expect(n.kind == ConfigNode::Kind::sequence);
      for (std::size_t i = 0; i < n.items.size(); ++i) {
        NodeLocation item_at{at.file, at.path + "[" + std::to_string(i) + "]"};
        if (n.items[i].kind != ConfigNode::Kind::map)
          fail_at(n.items[i], item_at, "expected a map, got " + kind_phrase(n.items[i]));
        validate_options(n.items[i], spec.children, item_at);
      }
      return;
  }
}

bool has_required_child(const OptionSpec& spec) {
  for (const auto& c : spec.children)
    if (c.required || (c.type == OptionType::object && has_required_child(c))) return true;
  return false;
}

void mark_as_default(ConfigNode& n, sdk::Mark at) {
  n.is_default = true;
  n.mark = at;
  n.key_mark = at;
  for (auto& item : n.items) mark_as_default(item, at);
  for (auto& [k, v] : n.entries) mark_as_default(v, at);
}

ConfigNode default_node(const OptionSpec& spec, sdk::Mark at) {
  auto tree = parse_yaml_tree("value: " + spec.default_value, "<default of " + spec.key + ">",
                              [](const std::string&) { return std::nullopt; });
  ConfigNode n = std::move(tree.root.entries.front().second);
  mark_as_default(n, at);
  return n;
}

}  // namespace

std::string child_path(const std::string& path, const std::string& key) {
  return path.empty() ? key : path + "." + key;
}

void fail_at(const ConfigNode& node, const NodeLocation& where, const std::string& problem) {
  std::string file = where.file ? *where.file : std::string("<config>");
  throw sdk::ConfigError(
      file + ":" + std::to_string(node.mark.line) + ":" + std::to_string(node.mark.column) + ": " +
      (where.path.empty() ? std::string("(root)") : where.path) + ": " + problem);
}

void fail_at_key(const ConfigNode& value, const ConfigNode& parent, const NodeLocation& where,
                 const std::string& problem) {
  ConfigNode at;
  at.mark = value.key_mark.line > 0 ? value.key_mark : parent.mark;
  fail_at(at, where, problem);
}

void validate_options(ConfigNode& node, const sdk::ConfigSchema& schema, const NodeLocation& where,
                      const std::vector<std::string>& reserved) {
  if (node.kind == ConfigNode::Kind::null) {
    node.kind = ConfigNode::Kind::map;
  }
  if (node.kind != ConfigNode::Kind::map)
    fail_at(node, where, "expected a map, got " + kind_phrase(node));

  std::vector<std::string> known;
  for (const auto& s : schema) known.push_back(s.key);
  for (const auto& r : reserved) known.push_back(r);

  for (auto& [key, value] : node.entries) {
    const OptionSpec* spec = nullptr;
    for (const auto& s : schema)
      if (s.key == key) spec = &s;
    NodeLocation at{where.file, child_path(where.path, key)};
    if (!spec) {
      bool is_reserved = false;
      for (const auto& r : reserved) is_reserved = is_reserved || r == key;
      if (is_reserved) continue;
      fail_at_key(value, node, at, "unknown key '" + key + "'" + did_you_mean(key, known));
    }
    if (value.kind == ConfigNode::Kind::null) continue;  // treated as absent below
    check_value(value, *spec, at);
    value.secret = spec->secret;
  }

  for (const auto& spec : schema) {
    ConfigNode* present = node.find(spec.key);
    if (present && present->kind != ConfigNode::Kind::null) continue;
    NodeLocation at{where.file, child_path(where.path, spec.key)};
    if (spec.required)
      fail_at(present ? *present : node, at, "required option '" + spec.key + "' is missing");
    ConfigNode filled;
    filled.mark = present ? present->mark : node.mark;
    filled.is_default = true;
    // An optional object with required members stays absent; so does a key with no default.
    const bool stays_absent = (spec.type == OptionType::object && has_required_child(spec)) ||
                              (spec.type != OptionType::object && spec.default_value.empty());
    if (stays_absent) continue;
    if (spec.type == OptionType::object) {
      filled.kind = ConfigNode::Kind::map;
      validate_options(filled, spec.children, at);
      for (auto& [k, v] : filled.entries) v.is_default = true;
    } else if (spec.type == OptionType::string_list || spec.type == OptionType::string_map ||
               spec.type == OptionType::object_list || spec.type == OptionType::any) {
      // Structured defaults are written in YAML flow syntax, e.g. "[a, b]" or "{k: v}".
      filled = default_node(spec, filled.mark);
    } else {
      filled.kind = ConfigNode::Kind::scalar;
      filled.scalar = spec.default_value;
    }
    if (present)
      *present = std::move(filled);
    else
      node.entries.emplace_back(spec.key, std::move(filled));
  }
}

const ConfigNode& require_key(const ConfigNode& map, const std::string& key,
                              const NodeLocation& where) {
  const ConfigNode* n = map.find(key);
  if (!n || n->kind == ConfigNode::Kind::null)
    fail_at(map, where, "required key '" + key + "' is missing");
  if (n->kind != ConfigNode::Kind::scalar)
    fail_at(*n, {where.file, child_path(where.path, key)}, "expected a string");
  return *n;
}

}  // namespace crosscut::config
