// Configuration as plugins see it: a parsed tree with source positions, the schema each
// component declares, and ConfigView, the typed reader the host hands to a component factory.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "crosscut/sdk/abi.hpp"
#include "crosscut/sdk/units.hpp"

CROSSCUT_SDK_BEGIN_NAMESPACE

// A 1-based position in a configuration file; line 0 means "not from the file" (a default).
struct Mark {
  int line = 0;
  int column = 0;
};

// A configuration error. what() is one line: "file:line:column: key.path: problem".
class CROSSCUT_SDK_API ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// One node of a parsed configuration. Scalars keep their text; whether a scalar was quoted
// matters ("5" quoted is a string, 5 plain is a number). Maps keep file order.
struct ConfigNode {
  enum class Kind { null, scalar, sequence, map };
  Kind kind = Kind::null;
  std::string scalar;
  bool quoted = false;
  bool is_default = false;  // filled in from a schema default, not written by the user
  bool secret = false;      // marked by the schema: redacted when the configuration is printed
  Mark mark;
  Mark key_mark;                  // for a map entry's value: where its key was written
  std::vector<ConfigNode> items;  // sequence
  std::vector<std::pair<std::string, ConfigNode>> entries;  // map

  // Declared here and defaulted below, where ConfigNode is complete: some compilers (clang)
  // need the element type of `entries` complete to define them.
  ConfigNode();
  ConfigNode(const ConfigNode&);
  ConfigNode(ConfigNode&&) noexcept;
  ConfigNode& operator=(const ConfigNode&);
  ConfigNode& operator=(ConfigNode&&) noexcept;
  ~ConfigNode();

  // The value of map entry `key`, or nullptr.
  const ConfigNode* find(std::string_view key) const;
  ConfigNode* find(std::string_view key);
};

inline ConfigNode::ConfigNode() = default;
inline ConfigNode::ConfigNode(const ConfigNode&) = default;
inline ConfigNode::ConfigNode(ConfigNode&&) noexcept = default;
inline ConfigNode& ConfigNode::operator=(const ConfigNode&) = default;
inline ConfigNode& ConfigNode::operator=(ConfigNode&&) noexcept = default;
inline ConfigNode::~ConfigNode() = default;

inline const ConfigNode* ConfigNode::find(std::string_view key) const {
  for (const auto& [k, v] : entries)
    if (k == key) return &v;
  return nullptr;
}

inline ConfigNode* ConfigNode::find(std::string_view key) {
  for (auto& [k, v] : entries)
    if (k == key) return &v;
  return nullptr;
}

// The option types a schema can declare; the host checks each before a factory runs.
enum class OptionType {
  string,
  boolean,
  integer,
  number,    // floating point
  duration,  // "250ms", "60s", "5m", "1h"
  size,      // bytes: "512", "64KiB", "10MiB", "1GiB", "10MB"
  string_list,
  string_map,   // free-form string values, e.g. librdkafka properties
  object,       // nested options, described by `children`
  object_list,  // a list of objects, each described by `children`
  any,          // not checked by the host; the component reads it itself
};

// One option of a component, as the host validates it. Components declare theirs through an
// OptionTable (options.hpp), which builds these from the members of an options struct.
struct OptionSpec {
  std::string key{};
  OptionType type = OptionType::string;
  std::string default_value{};  // in config syntax; empty: no default (absent stays absent)
  std::string description{};    // one line, shown by `crosscut plugins --describe`
  bool secret = false;          // redacted by `crosscut validate --print`
  bool required = false;
  std::vector<std::string> choices{};  // allowed values of a string option
  std::optional<std::int64_t> min{};   // integer: minimum value; size: bytes; duration: ns
  std::optional<std::int64_t> max{};   // integer: maximum value; size: bytes; duration: ns
  bool positive = false;               // duration/size/number: must be > 0
  std::vector<OptionSpec> children{};  // object / object_list members
};

using ConfigSchema = std::vector<OptionSpec>;

// Read-only typed access to one component's options. The host has already checked the
// options against the component's schema and filled in defaults, so getters for declared
// keys do not fail on type; fail() lets a component report a semantic problem (e.g. two
// options that contradict each other) at the option's position.
//
// A ConfigView borrows the tree it points into: it is valid during the factory call only.
// Copy what you need out of it.
class ConfigView {
 public:
  ConfigView(const ConfigNode* node, std::shared_ptr<const std::string> file, std::string path)
      : node_(node), file_(std::move(file)), path_(std::move(path)) {}

  bool has(std::string_view key) const {
    const ConfigNode* n = child_node(key);
    return n != nullptr && n->kind != ConfigNode::Kind::null;
  }

  std::string get_string(std::string_view key, std::string fallback = {}) const {
    const ConfigNode* n = scalar_or_null(key);
    if (!n) return fallback;
    return n->scalar;
  }
  bool get_bool(std::string_view key, bool fallback = false) const {
    const ConfigNode* n = scalar_or_null(key);
    if (!n) return fallback;
    if (auto b = parse_bool(n->scalar)) return *b;
    fail(key, "expected true or false, got '" + n->scalar + "'");
  }
  std::int64_t get_int(std::string_view key, std::int64_t fallback = 0) const {
    const ConfigNode* n = scalar_or_null(key);
    if (!n) return fallback;
    if (auto v = parse_int(n->scalar)) return *v;
    fail(key, "expected an integer, got '" + n->scalar + "'");
  }
  double get_number(std::string_view key, double fallback = 0) const {
    const ConfigNode* n = scalar_or_null(key);
    if (!n) return fallback;
    if (auto v = parse_number(n->scalar)) return *v;
    fail(key, "expected a number, got '" + n->scalar + "'");
  }
  std::chrono::nanoseconds get_duration(std::string_view key,
                                        std::chrono::nanoseconds fallback = {}) const {
    const ConfigNode* n = scalar_or_null(key);
    if (!n) return fallback;
    std::string err;
    if (auto v = parse_duration(n->scalar, &err)) return *v;
    fail(key, err);
  }
  std::uint64_t get_size(std::string_view key, std::uint64_t fallback = 0) const {
    const ConfigNode* n = scalar_or_null(key);
    if (!n) return fallback;
    std::string err;
    if (auto v = parse_size(n->scalar, &err)) return *v;
    fail(key, err);
  }
  std::vector<std::string> get_string_list(std::string_view key) const {
    std::vector<std::string> out;
    const ConfigNode* n = child_node(key);
    if (!n || n->kind == ConfigNode::Kind::null) return out;
    if (n->kind != ConfigNode::Kind::sequence) fail(key, "expected a list");
    for (const auto& item : n->items) {
      if (item.kind != ConfigNode::Kind::scalar) fail(key, "expected a list of strings");
      out.push_back(item.scalar);
    }
    return out;
  }
  // Keys in file order.
  std::vector<std::pair<std::string, std::string>> get_string_map(std::string_view key) const {
    std::vector<std::pair<std::string, std::string>> out;
    const ConfigNode* n = child_node(key);
    if (!n || n->kind == ConfigNode::Kind::null) return out;
    if (n->kind != ConfigNode::Kind::map) fail(key, "expected a map");
    for (const auto& [k, v] : n->entries) {
      if (v.kind != ConfigNode::Kind::scalar) fail(key, "expected string values");
      out.emplace_back(k, v.scalar);
    }
    return out;
  }

  // A nested object option.
  ConfigView child(std::string_view key) const {
    static const ConfigNode empty{};
    const ConfigNode* n = child_node(key);
    return ConfigView(n ? n : &empty, file_, join(key));
  }
  // The elements of an object_list option.
  std::vector<ConfigView> children(std::string_view key) const {
    std::vector<ConfigView> out;
    const ConfigNode* n = child_node(key);
    if (!n || n->kind != ConfigNode::Kind::sequence) return out;
    for (std::size_t i = 0; i < n->items.size(); ++i)
      out.emplace_back(&n->items[i], file_, join(key) + "[" + std::to_string(i) + "]");
    return out;
  }

  const ConfigNode& node() const { return *node_; }
  const std::string& path() const { return path_; }
  const std::string& file() const {
    static const std::string none = "<config>";
    return file_ ? *file_ : none;
  }

  // "file:line:column: path.key" for the option (or this object when the key is absent).
  std::string where(std::string_view key = {}) const {
    const ConfigNode* n = key.empty() ? node_ : child_node(key);
    Mark m = (n && n->mark.line > 0) ? n->mark : node_->mark;
    std::string p = key.empty() ? path_ : join(key);
    return file() + ":" + std::to_string(m.line) + ":" + std::to_string(m.column) + ": " +
           (p.empty() ? std::string("(root)") : p);
  }

  // Throws ConfigError located at `key`: "file:line:column: path.key: message".
  [[noreturn]] void fail(std::string_view key, const std::string& message) const {
    throw ConfigError(where(key) + ": " + message);
  }

 private:
  const ConfigNode* child_node(std::string_view key) const {
    return node_->kind == ConfigNode::Kind::map ? node_->find(key) : nullptr;
  }
  const ConfigNode* scalar_or_null(std::string_view key) const {
    const ConfigNode* n = child_node(key);
    if (!n || n->kind == ConfigNode::Kind::null) return nullptr;
    if (n->kind != ConfigNode::Kind::scalar) fail(key, "expected a single value");
    return n;
  }
  std::string join(std::string_view key) const {
    return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
  }

  const ConfigNode* node_;
  std::shared_ptr<const std::string> file_;
  std::string path_;
};

CROSSCUT_SDK_END_NAMESPACE
